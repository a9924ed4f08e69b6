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

/** True when `proof` is `wallet`'s signature binding it to `peerId` in this domain. */
export function isPeerBindingValid (domain: TypedDataDomain, peerId: string, wallet: string, proof: string): boolean {
  try {
    return verifyTypedData(domain, PEER_WALLET_TYPES, { peerId, wallet }, proof).toLowerCase() === wallet.toLowerCase()
  } catch {
    return false
  }
}
