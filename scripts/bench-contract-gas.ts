import { JsonRpcProvider, NonceManager, Wallet, id, parseEther, type Signer } from 'ethers'
import { ESCROW_PREDEPLOY_ADDRESS } from '../node/payments/deployments.js'
import { EscrowClient } from '../node/payments/escrow-client.js'
import { signReceipt, type SignedReceipt } from '../node/payments/receipts.js'

/** Funded in the dev genesis: accounts 0 and 1 of the "test test ... junk" mnemonic. */
const FUNDER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const SEEDER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const BATCH_SIZE = 20
const CONTENT_ID = id('bench content')

export interface ContractGas {
  open: bigint
  topUp: bigint
  redeemFirst: bigint
  redeemLater: bigint
  batch: bigint
  batchSize: number
}

/**
 * Gas of the escrow's paying paths on a real dev-genesis node (the genesis predeploy): the first
 * open between two parties, a top-up, a first and a later redeem, and one redeemBatch over
 * BATCH_SIZE escrows of different leechers.
 */
export async function measureContractGas (rpcUrl: string): Promise<ContractGas> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, pollingInterval: 200 })
  try {
    const funder = new NonceManager(new Wallet(FUNDER_KEY, provider))
    const seeder = new Wallet(SEEDER_KEY, provider)
    const leechers = Array.from({ length: BATCH_SIZE }, () => Wallet.createRandom().connect(provider))
    const funding = await Promise.all(leechers.map(async leecher => await funder.sendTransaction({ to: leecher.address, value: parseEther('2') })))
    await Promise.all(funding.map(async tx => await tx.wait()))

    const seederClient = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, seeder)
    const domain = await seederClient.domain()
    const expiry = BigInt(Math.floor(Date.now() / 1000) + 3600)
    const opened = await Promise.all(leechers.map(async leecher => await new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, leecher).open(seeder.address, parseEther('1'), expiry)))
    const first = opened[0]
    const firstLeecher = leechers[0] as Signer
    if (first === undefined) throw new Error('no escrow opened')
    const topUp = await new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, firstLeecher).topUp(first.escrowId, parseEther('0.5'), expiry)

    const receiptFor = async (index: number, amount: bigint): Promise<SignedReceipt> => {
      const escrow = opened[index]
      const leecher = leechers[index]
      if (escrow === undefined || leecher === undefined) throw new Error(`no escrow ${index}`)
      return await signReceipt(leecher, domain, { escrowId: escrow.escrowId, seeder: seeder.address, contentId: CONTENT_ID, contentBytes: amount / 1000n, cumulativeAmount: amount })
    }
    const redeemFirst = await seederClient.redeem(await receiptFor(0, parseEther('0.1')))
    const redeemLater = await seederClient.redeem(await receiptFor(0, parseEther('0.2')))
    const batchReceipts = await Promise.all(leechers.map(async (_, index) => await receiptFor(index, parseEther('0.3'))))
    const batch = await seederClient.redeemBatch(batchReceipts)
    if (batch.rejected.length > 0) throw new Error(`batch rejected ${batch.rejected.length} receipts: ${batch.rejected[0]?.reason}`)
    return {
      open: first.transaction.gasUsed,
      topUp: topUp.gasUsed,
      redeemFirst: redeemFirst.gasUsed,
      redeemLater: redeemLater.gasUsed,
      batch: batch.gasUsed,
      batchSize: BATCH_SIZE
    }
  } finally {
    provider.destroy()
  }
}
