import { ChiralEscrow__factory } from '../../typechain-types/factories/contracts/ChiralEscrow__factory.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { Mutex } from '../util/mutex.js'
import { ESCROW_SERVE_MARGIN_SECONDS, SETTLEMENT_GRACE_SECONDS } from './constants.js'
import type { EscrowClient } from './escrow-client.js'
import { heldToSigned, type Claim, type EarningsLedger, type RedeemedEscrow } from './ledger.js'

/** A transaction as the node's own chain holds it, in a block of its canonical chain. */
export interface MinedTransaction {
  blockNumber: bigint
  blockHash: string
  /** 1 if it succeeded, 0 if it reverted. */
  status: number
  logs: Array<{ address: string, topics: string[], data: string }>
}

/** What the redeemer reads of the node's own chain to follow its claims. */
export interface ClaimChain {
  headNumber: () => bigint
  /** The transaction, if it is in a block of the canonical chain. */
  findTransaction: (hash: string) => Promise<MinedTransaction | undefined>
}

export interface RedeemerOptions {
  ledger: EarningsLedger
  /** The escrow contract with the node wallet as signer; undefined while there is none or it is locked. */
  escrow: () => EscrowClient | undefined
  chain: ClaimChain
  redeemThresholdWei: bigint
  /** A claim is final once its transaction has this many confirmations (its block and the ones on top). */
  confirmations: number
  log: Logger
}

/**
 * A dropped claim is looked for on the chain this long after it was dropped: its transaction went
 * back to the pool and is usually mined again within a few blocks (then the claim counts again and
 * its re-submission is refused by the contract as not increasing).
 */
const DROPPED_CLAIM_WATCH_MS = 24 * 60 * 60 * 1000

const escrowEvents = ChiralEscrow__factory.createInterface()

/**
 * Turns the receipts a seeder holds into CHI on-chain, one batch transaction at a time, and
 * follows each claim on the node's own chain until it is final (see `ClaimStatus`).
 */
export class Redeemer {
  /** Redemptions and claim updates, one at a time: both move the held receipts' redeemed amounts. */
  private readonly redeeming = new Mutex()
  /** Escrows whose claim a reorganisation dropped: redeemed again at the next chance, whatever the threshold. */
  private readonly resubmit = new Set<string>()
  private following?: Promise<void>
  private followAgain = false

  constructor (private readonly options: RedeemerOptions) {}

  /**
   * Redeems held receipts in one batch: all of them when forced (`chiral claim`), otherwise once
   * their pending value passes the threshold, an escrow is as close to expiry as sessions may
   * come (nothing more will be signed on it; the settlement grace still leaves room to land), or a
   * reorganisation dropped the claim that had redeemed one of them.
   */
  async redeem (force: boolean): Promise<Claim | undefined> {
    return await this.redeeming.run(async () => await this.redeemHeld(force))
  }

  /**
   * Follows every claim not yet final on the node's own chain: final once deep enough, dropped
   * (and its escrows claimable again) when a reorganisation took its transaction off the chain,
   * confirming again if the chain mines it after all. A few index reads per such claim. True if
   * a claim was dropped, so the caller redeems again.
   */
  async followClaims (): Promise<boolean> {
    return await this.redeeming.run(async () => await this.checkClaims())
  }

  /**
   * For chain reorganisations: follows the claims at once (before a dropped transaction is mined
   * again, so the drop is seen and recorded) and re-submits what was dropped. Calls that come
   * while one runs make it run once more.
   */
  requestFollow (): void {
    if (this.following != null) {
      this.followAgain = true
      return
    }
    this.following = (async () => {
      do {
        this.followAgain = false
        if (await this.followClaims()) await this.redeem(false)
      } while (this.followAgain)
    })()
      .catch(err => { this.options.log.warn({ err: errorMessage(err) }, 'following claims failed; retrying at the next settlement') })
      .finally(() => { this.following = undefined })
  }

  private async redeemHeld (force: boolean): Promise<Claim | undefined> {
    const { ledger, log } = this.options
    const escrow = this.options.escrow()
    if (escrow == null) return undefined
    const now = Math.floor(Date.now() / 1000)
    const unredeemed = (await ledger.heldReceipts())
      .filter(held => BigInt(held.cumulativeAmount) > BigInt(held.redeemedAmount) && held.expiry + SETTLEMENT_GRACE_SECONDS >= now)
    const pending = unredeemed.reduce((sum, held) => sum + BigInt(held.cumulativeAmount) - BigInt(held.redeemedAmount), 0n)
    const expiring = unredeemed.some(held => held.expiry - now <= ESCROW_SERVE_MARGIN_SECONDS)
    const resubmitting = unredeemed.some(held => this.resubmit.has(idOf(held.escrowId)))
    if (unredeemed.length === 0 || (!force && !expiring && !resubmitting && pending < this.options.redeemThresholdWei)) return undefined
    const batch = await escrow.redeemBatch(unredeemed.map(heldToSigned))
    const refused = new Map(batch.rejected.map(rejected => [rejected.escrowId.toString(), rejected.reason]))
    const redeemed: RedeemedEscrow[] = unredeemed
      .filter(held => !refused.has(idOf(held.escrowId)))
      .map(held => ({ escrowId: idOf(held.escrowId), cumulativeAmount: held.cumulativeAmount }))
    let claim: Claim = {
      txHash: batch.hash,
      amountWei: batch.paid.toString(),
      at: Date.now(),
      escrows: redeemed.length,
      gasUsed: batch.gasUsed.toString(),
      status: 'confirming',
      redeemed,
      blockNumber: batch.blockNumber
    }
    await ledger.recordClaim(claim)
    for (const { escrowId, cumulativeAmount } of redeemed) {
      await this.raiseRedeemed(BigInt(escrowId), BigInt(cumulativeAmount))
      this.resubmit.delete(escrowId)
    }
    log.info({ tx: batch.hash, paid: batch.paid.toString(), escrows: claim.escrows }, 'redeemed receipts')
    if (refused.size === 0) return claim
    // A receipt refused as not increasing was redeemed before, typically by a claim a
    // reorganisation dropped and the chain mined again since: find that claim first, so it counts.
    await this.checkClaims()
    const observed: RedeemedEscrow[] = []
    for (const [escrowId, reason] of refused) {
      const { redeemed: onChain } = await escrow.escrow(BigInt(escrowId))
      await ledger.setRedeemedAmount(BigInt(escrowId), onChain)
      this.resubmit.delete(escrowId)
      if (onChain > await ledger.claimedAmount(BigInt(escrowId))) observed.push({ escrowId, cumulativeAmount: onChain.toString(), observed: true })
      log.warn({ escrowId, reason, redeemedOnChain: onChain.toString() }, 'the escrow refused a held receipt')
    }
    if (observed.length > 0) {
      claim = await ledger.claim(claim) ?? claim
      claim = { ...claim, redeemed: [...claim.redeemed ?? [], ...observed] }
      await ledger.recordClaim(claim)
    }
    return claim
  }

  /** See followClaims; runs under the redeeming lock. */
  private async checkClaims (): Promise<boolean> {
    const { ledger, chain, confirmations, log } = this.options
    const now = Date.now()
    let dropped = false
    for (const claim of await ledger.unsettledClaims()) {
      if (claim.status === 'dropped' && now - (claim.droppedAt ?? claim.at) > DROPPED_CLAIM_WATCH_MS) continue
      const mined = await chain.findTransaction(claim.txHash)
      if (mined == null) {
        if (claim.status !== 'confirming') continue
        await this.drop(claim, now)
        dropped = true
        continue
      }
      let next = claim
      if (claim.status === 'dropped' || claim.blockHash !== mined.blockHash) {
        // Mined (again, or first seen) in this block: what it redeemed is what ran there.
        next = { ...claim, ...this.executed(mined, claim), blockNumber: Number(mined.blockNumber), blockHash: mined.blockHash, status: 'confirming' }
        for (const { escrowId, cumulativeAmount } of next.redeemed ?? []) await this.raiseRedeemed(BigInt(escrowId), BigInt(cumulativeAmount))
        if (claim.status === 'dropped') log.info({ tx: claim.txHash, blockNumber: next.blockNumber, paid: next.amountWei }, 'a dropped claim was mined again')
      }
      if (chain.headNumber() - mined.blockNumber + 1n >= BigInt(confirmations)) next = { ...next, status: 'final' }
      if (next !== claim) await ledger.recordClaim(next)
    }
    return dropped
  }

  /**
   * A reorganisation took the claim's transaction off the chain: the claim covers nothing any
   * more, each escrow it redeemed is set back to what the contract holds now, and is re-submitted.
   */
  private async drop (claim: Claim, now: number): Promise<void> {
    const { ledger, log } = this.options
    await ledger.recordClaim({ ...claim, status: 'dropped', droppedAt: now })
    const escrow = this.options.escrow()
    const reset: Array<{ escrowId: string, redeemedNow: string }> = []
    for (const { escrowId, observed } of claim.redeemed ?? []) {
      if (observed === true) continue
      // Without a wallet the contract is not asked; the claims still standing say the same.
      const redeemedNow = escrow == null ? await ledger.claimedAmount(BigInt(escrowId)) : (await escrow.escrow(BigInt(escrowId))).redeemed
      await ledger.setRedeemedAmount(BigInt(escrowId), redeemedNow)
      this.resubmit.add(escrowId)
      reset.push({ escrowId, redeemedNow: redeemedNow.toString() })
    }
    log.warn({ tx: claim.txHash, blockNumber: claim.blockNumber, blockHash: claim.blockHash, escrows: reset }, 'a reorganisation dropped a claim; its escrows are claimable again')
  }

  /** What a claim's transaction did in the block that holds it, from the escrow's events there. */
  private executed (mined: MinedTransaction, claim: Claim): Pick<Claim, 'amountWei' | 'escrows' | 'redeemed'> {
    const address = this.options.escrow()?.address.toLowerCase()
    const redeemed: RedeemedEscrow[] = []
    let paid = 0n
    for (const log of mined.status === 1 ? mined.logs : []) {
      if (address != null && log.address.toLowerCase() !== address) continue
      const event = parseEvent(log)
      if (event?.name !== 'Redeemed') continue
      paid += event.args.payout as bigint
      redeemed.push({ escrowId: (event.args.escrowId as bigint).toString(), cumulativeAmount: (event.args.cumulativeAmount as bigint).toString() })
    }
    return { amountWei: paid.toString(), escrows: redeemed.length, redeemed: [...redeemed, ...(claim.redeemed ?? []).filter(escrow => escrow.observed === true)] }
  }

  private async raiseRedeemed (escrowId: bigint, amount: bigint): Promise<void> {
    const held = await this.options.ledger.heldReceipt(escrowId)
    if (held != null && BigInt(held.redeemedAmount) < amount) await this.options.ledger.setRedeemedAmount(escrowId, amount)
  }
}

function idOf (escrowId: string): string {
  return BigInt(escrowId).toString()
}

function parseEvent (log: { topics: string[], data: string }): ReturnType<typeof escrowEvents.parseLog> {
  try {
    return escrowEvents.parseLog(log)
  } catch {
    return null
  }
}
