import type { ContractTransactionResponse, Provider, Signer, TypedDataDomain } from 'ethers'
import type { ChiralEscrow } from '../../typechain-types/contracts/ChiralEscrow.js'
import { ChiralEscrow__factory } from '../../typechain-types/factories/contracts/ChiralEscrow__factory.js'
import { errorMessage } from '../util/errors.js'
import type { Mutex } from '../util/mutex.js'
import { EscrowNotFoundError, EscrowTransactionError } from './errors.js'
import { escrowDomain } from './receipt-typed-data.js'
import type { SignedReceipt } from './receipts.js'

export interface EscrowState {
  id: bigint
  leecher: string
  seeder: string
  deposit: bigint
  redeemed: bigint
  /**
   * Unix seconds; live (top-ups) up to and including it, redeemable up to and including it plus
   * SETTLEMENT_GRACE_SECONDS, refundable after that.
   */
  expiry: bigint
}

export interface SentTransaction {
  hash: string
  blockNumber: number
  gasUsed: bigint
  /** gasUsed times the effective gas price: what the sender paid besides the value. */
  fee: bigint
}

export interface BatchRedemption extends SentTransaction {
  paid: bigint
  /** Escrow ids whose receipt the contract skipped, with the custom error it gave. */
  rejected: Array<{ escrowId: bigint, reason: string }>
}

/**
 * The node's typed access to the escrow contract (TypeChain bindings over ethers), for one account:
 * the leecher side opens, tops up and refunds; the seeder side checks escrows and redeems receipts.
 */
export class EscrowClient {
  readonly contract: ChiralEscrow
  private cachedDomain?: Promise<TypedDataDomain>

  /**
   * `submitLock` serialises submissions from one wallet so two never take the same nonce; only
   * the submission is serialised, the wait for inclusion is not.
   */
  constructor (readonly address: string, runner: Signer | Provider, private readonly submitLock?: Mutex) {
    this.contract = ChiralEscrow__factory.connect(address, runner)
  }

  /** The contract's EIP-712 domain, asked once: chain id and address never change. */
  async domain (): Promise<TypedDataDomain> {
    this.cachedDomain ??= this.contract.eip712Domain().then(({ chainId, verifyingContract }) => escrowDomain(chainId, verifyingContract))
    this.cachedDomain.catch(() => { this.cachedDomain = undefined })
    return await this.cachedDomain
  }

  async escrow (id: bigint): Promise<EscrowState> {
    const { leecher, seeder, deposit, redeemed, expiry } = await this.contract.escrowOf(id)
    if (leecher === '0x0000000000000000000000000000000000000000') throw new EscrowNotFoundError(id)
    return { id, leecher, seeder, deposit, redeemed, expiry }
  }

  /** The newest escrow this leecher opened for this seeder, if any. */
  async latestEscrow (leecher: string, seeder: string): Promise<EscrowState | undefined> {
    const id = await this.contract.latestEscrowId(leecher, seeder)
    return id === 0n ? undefined : await this.escrow(id)
  }

  async open (seeder: string, deposit: bigint, expiry: bigint): Promise<{ escrowId: bigint, transaction: SentTransaction }> {
    const { transaction, receipt } = await this.send('open escrow', async () => await this.contract.open(seeder, expiry, { value: deposit }))
    const opened = receipt.logs.map(log => this.contract.interface.parseLog(log)).find(event => event?.name === 'EscrowOpened')
    if (opened == null) throw new EscrowTransactionError('open escrow', `no EscrowOpened event in ${transaction.hash}`)
    return { escrowId: opened.args.escrowId as bigint, transaction }
  }

  async topUp (escrowId: bigint, amount: bigint, expiry: bigint): Promise<SentTransaction> {
    return (await this.send('top up escrow', async () => await this.contract.topUp(escrowId, expiry, { value: amount }))).transaction
  }

  async redeem (receipt: SignedReceipt): Promise<SentTransaction> {
    return (await this.send('redeem receipt', async () => await this.contract.redeem(receipt.message, receipt.signature))).transaction
  }

  async redeemBatch (receipts: SignedReceipt[]): Promise<BatchRedemption> {
    const { transaction, receipt } = await this.send('redeem receipts', async () => await this.contract.redeemBatch(
      receipts.map(r => r.message),
      receipts.map(r => r.signature)
    ))
    let paid = 0n
    const rejected: BatchRedemption['rejected'] = []
    for (const log of receipt.logs) {
      const event = this.contract.interface.parseLog(log)
      if (event?.name === 'Redeemed') paid += event.args.payout as bigint
      if (event?.name === 'ReceiptRejected') {
        const reason = this.contract.interface.getError(event.args.reason as string)?.name ?? String(event.args.reason)
        rejected.push({ escrowId: event.args.escrowId as bigint, reason })
      }
    }
    return { ...transaction, paid, rejected }
  }

  async refund (escrowId: bigint): Promise<SentTransaction> {
    return (await this.send('refund escrow', async () => await this.contract.refund(escrowId))).transaction
  }

  private async send (action: string, submit: () => Promise<ContractTransactionResponse>) {
    let response: ContractTransactionResponse
    try {
      response = await (this.submitLock?.run(submit) ?? submit())
    } catch (err) {
      throw new EscrowTransactionError(action, this.revertReason(err))
    }
    const receipt = await response.wait()
    if (receipt === null) throw new EscrowTransactionError(action, `no receipt for ${response.hash}`)
    const transaction: SentTransaction = {
      hash: receipt.hash,
      blockNumber: receipt.blockNumber,
      gasUsed: receipt.gasUsed,
      fee: receipt.gasUsed * receipt.gasPrice
    }
    return { transaction, receipt }
  }

  /** Names the contract's custom error when the node returned revert data, else the RPC message. */
  private revertReason (err: unknown): string {
    const data = (err as { data?: unknown }).data
    if (typeof data === 'string' && data.length >= 10) {
      const parsed = this.contract.interface.parseError(data)
      if (parsed != null) return parsed.name
    }
    return (err as { shortMessage?: string }).shortMessage ?? errorMessage(err)
  }
}
