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

/**
 * One receipt's increment: what a peer owes for one file. Pending until a claim redeems its
 * escrow up to its cumulative amount, confirming while that claim's transaction is less than the
 * confirmation depth deep, then final (see `EarningsLedger.view`).
 */
export interface Earning {
  escrowId: string
  cumulativeAmount: string
  cid: string
  peerId: string
  wallet: string
  amount: string
  bytes: string
  at: number
  /** Set only by nodes from before claim statuses: such an earning counts as final. */
  redeemedTx?: string
}

/**
 * Where a claim's transaction stands on the node's own chain: `confirming` once mined, until it is
 * the configured number of blocks deep (`redeemConfirmations`); then `final`. `dropped` when a
 * reorganisation took it off the canonical chain: what it redeemed is claimable again (and
 * re-submitted), and it becomes `confirming` again if the chain mines it after all.
 */
export type ClaimStatus = 'confirming' | 'final' | 'dropped'

/** An escrow a claim redeemed, with the cumulative amount it took the escrow to. */
export interface RedeemedEscrow {
  escrowId: string
  cumulativeAmount: string
  /**
   * Not paid by this transaction: the contract refused this claim's receipt because the escrow was
   * already redeemed this far by a transaction the node does not know (one sent with its key
   * elsewhere). Counted with this claim, so those earnings do not stay pending for ever.
   */
  observed?: true
}

export interface Claim {
  txHash: string
  /** What the transaction paid, as it executed in its block. */
  amountWei: string
  at: number
  /** How many escrows it paid. */
  escrows: number
  gasUsed: string
  /** Absent on claims recorded before statuses: those count as final. */
  status?: ClaimStatus
  /** The escrows it redeemed (absent before statuses). */
  redeemed?: RedeemedEscrow[]
  /** The block that holds its transaction on the node's canonical chain (the last one, if dropped). */
  blockNumber?: number
  blockHash?: string
  /** When a reorganisation last took its transaction off the chain. */
  droppedAt?: number
}

/** A claim as the API shows it, with how many blocks deep its transaction is now. */
export interface ClaimView extends Claim {
  confirmations?: number
}

/** `redeemedWei` is final (the claim is deep enough); `confirmingWei` is redeemed by a claim not yet that deep. */
export interface EarningsTotals { pendingWei: string, confirmingWei: string, redeemedWei: string, bytes: string }
export interface EarningsView extends Omit<EarningsTotals, 'bytes'> {
  files: Array<EarningsTotals & { cid: string }>
  peers: Array<EarningsTotals & { peerId: string, wallet: string }>
  claims: ClaimView[]
}

type EarningState = 'pending' | 'confirming' | 'final'
interface Sums { pending: bigint, confirming: bigint, redeemed: bigint, bytes: bigint }

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

  /**
   * Sets what is redeemed on-chain for an escrow, as the redeemer last saw it: raised by a claim,
   * and set back to the contract's figure when a reorganisation drops a claim, so the receipt is
   * redeemed again.
   */
  async setRedeemedAmount (escrowId: bigint, amount: bigint): Promise<void> {
    const held = await this.receipts.get(escrowKey(escrowId))
    if (held != null && BigInt(held.redeemedAmount) !== amount) {
      await this.receipts.put(escrowKey(escrowId), { ...held, redeemedAmount: amount.toString() })
    }
  }

  /** Stores a new claim, or the new state of one (same `at` and hash, same key). */
  async recordClaim (claim: Claim): Promise<void> {
    await this.claims.put(claimKey(claim), claim)
  }

  /** The stored state of a claim. */
  async claim (claim: Pick<Claim, 'at' | 'txHash'>): Promise<Claim | undefined> {
    return await this.claims.get(claimKey(claim))
  }

  /** Claims whose transaction the redeemer still follows: confirming ones, and dropped ones. */
  async unsettledClaims (): Promise<Claim[]> {
    return (await this.claims.values()).filter(claim => claim.status === 'confirming' || claim.status === 'dropped')
  }

  /** How far claims that are not dropped took an escrow. */
  async claimedAmount (escrowId: bigint): Promise<bigint> {
    const reached = reachedByEscrow(await this.claims.values()).get(escrowId.toString())
    return reached?.confirming ?? 0n
  }

  /**
   * Totals, per file and per peer. Each earning is counted once, in the state of the furthest
   * claim that covers it: final if a final claim took its escrow to its cumulative amount (or
   * beyond), confirming if only a confirming one did, pending otherwise. A claim a reorganisation
   * dropped covers nothing, so its earnings are pending again until it or its re-submission is
   * mined, and two claims covering the same earning (a dropped claim mined again, and its
   * re-submission that the contract refused) still count it once.
   */
  async view (headNumber?: bigint): Promise<EarningsView> {
    const claims = await this.claims.values()
    const reached = reachedByEscrow(claims)
    const stateOf = (earning: Earning): EarningState => {
      const amount = BigInt(earning.cumulativeAmount)
      const escrow = reached.get(BigInt(earning.escrowId).toString())
      if (escrow != null && amount <= escrow.final) return 'final'
      if (escrow != null && amount <= escrow.confirming) return 'confirming'
      return earning.redeemedTx != null ? 'final' : 'pending'
    }
    const all: Sums = { pending: 0n, confirming: 0n, redeemed: 0n, bytes: 0n }
    const files = new Map<string, Sums>()
    const peers = new Map<string, Sums & { wallet: string }>()
    for (const earning of await this.earnings.values()) {
      const amount = BigInt(earning.amount)
      const state = stateOf(earning)
      const file = files.get(earning.cid) ?? { pending: 0n, confirming: 0n, redeemed: 0n, bytes: 0n }
      const peer = peers.get(earning.peerId) ?? { wallet: earning.wallet, pending: 0n, confirming: 0n, redeemed: 0n, bytes: 0n }
      for (const sums of [all, file, peer]) {
        if (state === 'final') sums.redeemed += amount
        else if (state === 'confirming') sums.confirming += amount
        else sums.pending += amount
        sums.bytes += BigInt(earning.bytes)
      }
      files.set(earning.cid, file)
      peers.set(earning.peerId, peer)
    }
    const totals = (t: Sums): EarningsTotals => ({
      pendingWei: t.pending.toString(), confirmingWei: t.confirming.toString(), redeemedWei: t.redeemed.toString(), bytes: t.bytes.toString()
    })
    return {
      pendingWei: all.pending.toString(),
      confirmingWei: all.confirming.toString(),
      redeemedWei: all.redeemed.toString(),
      files: [...files].map(([cid, t]) => ({ cid, ...totals(t) })),
      peers: [...peers].map(([peerId, t]) => ({ peerId, wallet: t.wallet, ...totals(t) })),
      claims: claims.reverse().map(claim => {
        if (headNumber == null || claim.blockNumber == null || claim.status == null || claim.status === 'dropped') return claim
        return { ...claim, confirmations: Math.max(0, Number(headNumber) - claim.blockNumber + 1) }
      })
    }
  }
}

function claimKey (claim: Pick<Claim, 'at' | 'txHash'>): string {
  return `${String(claim.at).padStart(16, '0')}:${claim.txHash}`
}

/** Per escrow id: the furthest cumulative amount final claims took it to, and confirming or final ones. */
function reachedByEscrow (claims: Claim[]): Map<string, { final: bigint, confirming: bigint }> {
  const reached = new Map<string, { final: bigint, confirming: bigint }>()
  for (const claim of claims) {
    if (claim.status == null || claim.status === 'dropped') continue
    for (const escrow of claim.redeemed ?? []) {
      const id = BigInt(escrow.escrowId).toString()
      const amount = BigInt(escrow.cumulativeAmount)
      const entry = reached.get(id) ?? { final: 0n, confirming: 0n }
      if (amount > entry.confirming) entry.confirming = amount
      if (claim.status === 'final' && amount > entry.final) entry.final = amount
      reached.set(id, entry)
    }
  }
  return reached
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
