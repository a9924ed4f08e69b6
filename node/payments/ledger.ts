import type { Database, Table } from '../db/database.js'
import type { SignedReceipt } from './receipts.js'

/** The newest receipt a seeder holds for one escrow; redeeming it pays everything before it. */
export interface HeldReceipt {
  escrowId: string
  leecher: string
  peerId: string
  cid: string
  contentId: string
  contentBytes: string
  /** The highest byte count signed for each content id under this escrow (receipts of several files interleave). */
  contentBytesByFile?: Record<string, string>
  cumulativeAmount: string
  signature: string
  seeder: string
  /** Escrow expiry (unix seconds), so redemption happens before it. */
  expiry: number
  /** The cumulative amount already redeemed on-chain for this escrow. */
  redeemedAmount: string
  receivedAt: number
}

/** One receipt's increment: what a peer owes for one file, pending until redeemed. */
export interface Earning {
  escrowId: string
  cumulativeAmount: string
  cid: string
  peerId: string
  wallet: string
  amount: string
  bytes: string
  at: number
  redeemedTx?: string
}

export interface Claim {
  txHash: string
  amountWei: string
  at: number
  escrows: number
  gasUsed: string
}

export interface EarningsTotals { pendingWei: string, redeemedWei: string, bytes: string }
export interface EarningsView extends Omit<EarningsTotals, 'bytes'> {
  files: Array<EarningsTotals & { cid: string }>
  peers: Array<EarningsTotals & { peerId: string, wallet: string }>
  claims: Claim[]
}

/** Escrow ids and amounts as keys that sort numerically (a uint256 has at most 78 digits). */
export function escrowKey (value: bigint | string): string {
  return value.toString().padStart(78, '0')
}

/**
 * The seeder's durable record of receipts and earnings. A receipt is written here before it is
 * acknowledged, so a crash between acknowledging and redeeming loses nothing.
 */
export class EarningsLedger {
  private readonly receipts: Table<HeldReceipt>
  private readonly earnings: Table<Earning>
  private readonly claims: Table<Claim>

  constructor (db: Database) {
    this.receipts = db.table<HeldReceipt>('pay-held-receipts')
    this.earnings = db.table<Earning>('pay-earnings')
    this.claims = db.table<Claim>('pay-claims')
  }

  async heldReceipt (escrowId: bigint): Promise<HeldReceipt | undefined> {
    return await this.receipts.get(escrowKey(escrowId))
  }

  async heldReceipts (): Promise<HeldReceipt[]> {
    return await this.receipts.values()
  }

  /** Stores a newer receipt for its escrow and the earning it adds; a receipt that is not newer is refused, never stored. */
  async recordReceipt (held: HeldReceipt, earning: Earning): Promise<void> {
    const previous = await this.receipts.get(escrowKey(held.escrowId))
    if (previous != null && BigInt(previous.cumulativeAmount) >= BigInt(held.cumulativeAmount)) {
      throw new Error(`a receipt for ${previous.cumulativeAmount} wei is already held for escrow ${held.escrowId}`)
    }
    await this.earnings.put(`${escrowKey(earning.escrowId)}:${escrowKey(earning.cumulativeAmount)}`, earning)
    await this.receipts.put(escrowKey(held.escrowId), held)
  }

  /** Marks an escrow redeemed up to `cumulativeAmount` by `txHash`. */
  async recordRedeemed (escrowId: bigint, cumulativeAmount: bigint, txHash: string): Promise<void> {
    const held = await this.receipts.get(escrowKey(escrowId))
    if (held != null && BigInt(held.redeemedAmount) < cumulativeAmount) {
      await this.receipts.put(escrowKey(escrowId), { ...held, redeemedAmount: cumulativeAmount.toString() })
    }
    for (const earning of await this.earnings.valuesWithPrefix(`${escrowKey(escrowId)}:`)) {
      if (earning.redeemedTx == null && BigInt(earning.cumulativeAmount) <= cumulativeAmount) {
        await this.earnings.put(`${escrowKey(escrowId)}:${escrowKey(earning.cumulativeAmount)}`, { ...earning, redeemedTx: txHash })
      }
    }
  }

  async recordClaim (claim: Claim): Promise<void> {
    await this.claims.put(`${String(claim.at).padStart(16, '0')}:${claim.txHash}`, claim)
  }

  async view (): Promise<EarningsView> {
    const files = new Map<string, { pending: bigint, redeemed: bigint, bytes: bigint }>()
    const peers = new Map<string, { wallet: string, pending: bigint, redeemed: bigint, bytes: bigint }>()
    let pending = 0n
    let redeemed = 0n
    for (const earning of await this.earnings.values()) {
      const amount = BigInt(earning.amount)
      const isRedeemed = earning.redeemedTx != null
      if (isRedeemed) redeemed += amount
      else pending += amount
      const file = files.get(earning.cid) ?? { pending: 0n, redeemed: 0n, bytes: 0n }
      const peer = peers.get(earning.peerId) ?? { wallet: earning.wallet, pending: 0n, redeemed: 0n, bytes: 0n }
      for (const totals of [file, peer]) {
        if (isRedeemed) totals.redeemed += amount
        else totals.pending += amount
        totals.bytes += BigInt(earning.bytes)
      }
      files.set(earning.cid, file)
      peers.set(earning.peerId, peer)
    }
    const totals = (t: { pending: bigint, redeemed: bigint, bytes: bigint }): EarningsTotals => ({ pendingWei: t.pending.toString(), redeemedWei: t.redeemed.toString(), bytes: t.bytes.toString() })
    return {
      pendingWei: pending.toString(),
      redeemedWei: redeemed.toString(),
      files: [...files].map(([cid, t]) => ({ cid, ...totals(t) })),
      peers: [...peers].map(([peerId, t]) => ({ peerId, wallet: t.wallet, ...totals(t) })),
      claims: (await this.claims.values()).reverse()
    }
  }
}

export function heldToSigned (held: HeldReceipt): SignedReceipt {
  return {
    message: {
      escrowId: BigInt(held.escrowId),
      seeder: held.seeder,
      contentId: held.contentId,
      contentBytes: BigInt(held.contentBytes),
      cumulativeAmount: BigInt(held.cumulativeAmount)
    },
    signature: held.signature
  }
}
