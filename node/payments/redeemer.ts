import type { Logger } from '../util/log.js'
import { Mutex } from '../util/mutex.js'
import { ESCROW_SERVE_MARGIN_SECONDS, SETTLEMENT_GRACE_SECONDS } from './constants.js'
import type { EscrowClient } from './escrow-client.js'
import { heldToSigned, type Claim, type EarningsLedger } from './ledger.js'

export interface RedeemerOptions {
  ledger: EarningsLedger
  /** The escrow contract with the node wallet as signer; undefined while there is none or it is locked. */
  escrow: () => EscrowClient | undefined
  redeemThresholdWei: bigint
  log: Logger
}

/** Turns the receipts a seeder holds into CHI on-chain, one batch transaction at a time. */
export class Redeemer {
  private readonly redeeming = new Mutex()

  constructor (private readonly options: RedeemerOptions) {}

  /**
   * Redeems held receipts in one batch: all of them when forced (`chiral claim`), otherwise once
   * their pending value passes the threshold or an escrow is as close to expiry as sessions may
   * come (nothing more will be signed on it; the settlement grace still leaves room to land).
   */
  async redeem (force: boolean): Promise<Claim | undefined> {
    return await this.redeeming.run(async () => {
      const escrow = this.options.escrow()
      if (escrow == null) return undefined
      const now = Math.floor(Date.now() / 1000)
      const unredeemed = (await this.options.ledger.heldReceipts())
        .filter(held => BigInt(held.cumulativeAmount) > BigInt(held.redeemedAmount) && held.expiry + SETTLEMENT_GRACE_SECONDS >= now)
      const pending = unredeemed.reduce((sum, held) => sum + BigInt(held.cumulativeAmount) - BigInt(held.redeemedAmount), 0n)
      const expiring = unredeemed.some(held => held.expiry - now <= ESCROW_SERVE_MARGIN_SECONDS)
      if (unredeemed.length === 0 || (!force && !expiring && pending < this.options.redeemThresholdWei)) return undefined
      const batch = await escrow.redeemBatch(unredeemed.map(heldToSigned))
      for (const held of unredeemed) {
        if (batch.rejected.some(r => r.escrowId === BigInt(held.escrowId))) continue
        await this.options.ledger.recordRedeemed(BigInt(held.escrowId), BigInt(held.cumulativeAmount), batch.hash)
      }
      for (const rejected of batch.rejected) {
        const state = await escrow.escrow(rejected.escrowId)
        await this.options.ledger.recordRedeemed(rejected.escrowId, state.redeemed, batch.hash)
        this.options.log.warn({ escrowId: rejected.escrowId.toString(), reason: rejected.reason }, 'the escrow refused a held receipt')
      }
      const claim: Claim = { txHash: batch.hash, amountWei: batch.paid.toString(), at: Date.now(), escrows: unredeemed.length - batch.rejected.length, gasUsed: batch.gasUsed.toString() }
      await this.options.ledger.recordClaim(claim)
      this.options.log.info({ tx: batch.hash, paid: batch.paid.toString(), escrows: claim.escrows }, 'redeemed receipts')
      return claim
    })
  }
}
