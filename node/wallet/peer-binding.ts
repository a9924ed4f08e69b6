import { verifyTypedData, type Signer, type TypedDataDomain, type TypedDataField } from 'ethers'

/**
 * A wallet's EIP-712 statement that it is the payee of one libp2p peer, on one chain and escrow
 * contract. File records carry it, so nobody can put their own wallet next to someone else's peer
 * id (or vice versa) and redirect payments: the peer key signs the record, the wallet key this.
 */
const PEER_WALLET_TYPES: Record<string, TypedDataField[]> = {
  PeerWallet: [
    { name: 'peerId', type: 'string' },
    { name: 'wallet', type: 'address' }
  ]
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

export function peerBindingDomain (chainId: bigint, escrowAddress: string | undefined): TypedDataDomain {
  return { name: 'Chiral Network', version: '1', chainId, verifyingContract: escrowAddress ?? ZERO_ADDRESS }
}

export async function signPeerBinding (wallet: Signer, domain: TypedDataDomain, peerId: string): Promise<string> {
  return await wallet.signTypedData(domain, PEER_WALLET_TYPES, { peerId, wallet: await wallet.getAddress() })
}

/**
 * Verdicts already reached, by domain, peer, wallet and proof. A seeder's binding is checked on
 * every lookup of every file it seeds, and recovering the signer costs milliseconds of the time
 * before a download's first byte; the verdict depends only on the key, so it can be kept.
 */
const verdicts = new Map<string, boolean>()
const MAX_VERDICTS = 4096

/** True when `proof` is `wallet`'s signature binding it to `peerId` in this domain. */
export function isPeerBindingValid (domain: TypedDataDomain, peerId: string, wallet: string, proof: string): boolean {
  const key = [domain.name, domain.version, String(domain.chainId), domain.verifyingContract, peerId, wallet, proof].join('|')
  const known = verdicts.get(key)
  if (known != null) return known
  let valid: boolean
  try {
    valid = verifyTypedData(domain, PEER_WALLET_TYPES, { peerId, wallet }, proof).toLowerCase() === wallet.toLowerCase()
  } catch {
    valid = false
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear()
  verdicts.set(key, valid)
  return valid
}
