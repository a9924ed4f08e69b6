import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Signer } from 'ethers'
import { pushable, type Pushable } from 'it-pushable'
import { parseContentId } from '../content/cid.js'
import type { Database, Table } from '../db/database.js'
import { FrameReader, frameJson } from '../p2p/framing.js'
import type { ChiralLibp2p } from '../p2p/host.js'
import type { FileRecord } from '../p2p/records.js'
import type { DownloadEntry } from '../transfer/downloads.js'
import { ProtocolError, errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { Mutex } from '../util/mutex.js'
import { BALANCE_QUERY_TIMEOUT_MS, BYTES_PER_MIB, ESCROW_MARGIN_PERCENT, GAS_RESERVE_WEI, MAX_PAYMENT_FRAME_BYTES, PAYMENT_PROTOCOL, SESSION_RETRY_INTERVAL_MS, SESSION_RETRY_LIMIT_MS, SETTLEMENT_GRACE_SECONDS } from './constants.js'
import { CostTooHighError, InsufficientFundsError, PaymentsUnavailableError } from './errors.js'
import type { EscrowClient } from './escrow-client.js'
import { escrowKey } from './ledger.js'
import { costOf } from './pricing.js'
import { parseSeederMessage, receiptFrame, type BalanceAnswerMessage, type SessionRefusedMessage } from './protocol.js'
import { receiptContentId, signReceipt } from './receipts.js'

export interface LeecherPaymentsOptions {
  db: Database
  host: ChiralLibp2p
  escrow: () => EscrowClient | undefined
  signer: () => Signer | undefined
  balance: (address: string) => Promise<bigint>
  /** The chain head's timestamp: the next block, which a refund would land in, is stamped later. */
  headTimestamp: () => number
  escrowDurationSeconds: number
  escrowMinimumDepositWei: bigint
  creditWindowBytes: number
  log: Logger
}

/** An escrow this node opened as a leecher, with what it has signed out of it so far. */
export interface OwnEscrow {
  escrowId: string
  seeder: string
  deposit: string
  expiry: number
  cumulativeAmount: string
  contentBytes: Record<string, string>
  refundTx?: string
}

export interface SeederQuote {
  peerId: string
  wallet: string
  pricePerMiB: string
  transports: string[]
}

export interface Quote {
  size: number
  seeders: SeederQuote[]
  /** The most the download can cost: every byte from the dearest seeder chosen. */
  totalCostWei: string
}

interface Session {
  peerId: string
  cid: string
  escrowId: bigint
  seeder: string
  pricePerMiB: bigint
  credential: string
  /** What requests this node called off on the seeder were worth (it may have counted them as served). */
  calledOffWorth: bigint
  balanceWaiters: Array<(balance: BalanceAnswerMessage) => void>
  out: Pushable<Uint8Array>
  sending: Promise<void>
}

/**
 * The leecher's side of payments: quotes, escrows sized to each seeder's expected share, one
 * payment session per paid seeder, and a signed cumulative receipt for every verified chunk.
 */
export class LeecherPayments {
  private readonly escrows: Table<OwnEscrow>
  private readonly sessions = new Map<string, Session>()
  private readonly receipts = new Mutex()
  /** One escrow change per seeder at a time, so two downloads never race on the same escrow. */
  private readonly funding = new Map<string, Mutex>()
  /** Sessions being set up (escrow funded, then opened with the seeder), by peer and content id. */
  private readonly opening = new Map<string, Promise<void>>()
  /** Bytes on payment streams, both directions, for the payment-overhead benchmark. */
  readonly traffic = { sentBytes: 0, receivedBytes: 0 }

  constructor (private readonly options: LeecherPaymentsOptions) {
    this.escrows = options.db.table<OwnEscrow>('pay-own-escrows')
  }

  quote (records: FileRecord[], size: number, maxPricePerMiB?: bigint): Quote {
    const usable = records.filter(record => maxPricePerMiB == null || BigInt(record.pricePerMiB) <= maxPricePerMiB)
    const dearest = usable.reduce((max, record) => BigInt(record.pricePerMiB) > max ? BigInt(record.pricePerMiB) : max, 0n)
    return {
      size,
      seeders: usable.map(record => ({ peerId: record.peerId, wallet: record.wallet, pricePerMiB: record.pricePerMiB, transports: record.transports.map(t => t.name) })),
      totalCostWei: costOf(size, dearest).toString()
    }
  }

  credentialFor (peerId: string, cid: string): string | undefined {
    return this.sessions.get(`${peerId}:${cid}`)?.credential
  }

  /**
   * Chooses the seeders a download may use under its limits and, for the paid ones, funds an
   * escrow and opens a session. The first call fails with a clear error before any byte moves
   * when nothing is usable; later calls (seeders found while downloading) just skip.
   */
  async prepareSeeders (entry: DownloadEntry, records: FileRecord[], size: number, first: boolean): Promise<FileRecord[]> {
    const maxPrice = priceCeiling(entry, size)
    const affordable = records.filter(record => maxPrice == null || BigInt(record.pricePerMiB) <= maxPrice)
    const free = affordable.filter(record => BigInt(record.pricePerMiB) === 0n)
    const paid = affordable.filter(record => BigInt(record.pricePerMiB) > 0n && record.wallet !== '')
    if (paid.length === 0) {
      if (first && free.length === 0 && records.length > 0) throw new CostTooHighError(costOf(size, minPrice(records)), maxPrice ?? 0n)
      return free
    }
    try {
      const escrow = this.options.escrow()
      const signer = this.options.signer()
      if (escrow == null || signer == null) throw new PaymentsUnavailableError()
      const wallet = await signer.getAddress()
      const sessionKey = (record: FileRecord): string => `${record.peerId}:${entry.cid}`
      const inSession = paid.filter(record => this.sessions.has(sessionKey(record)))
      const fresh = paid.filter(record => !inSession.includes(record) && !this.opening.has(sessionKey(record)))
      const plans = await Promise.all(fresh.map(async record => await this.planEscrow(escrow, wallet, record, size, paid.length)))
      const needed = plans.reduce((sum, plan) => sum + plan.topUp + (plan.topUp > 0n ? GAS_RESERVE_WEI : 0n), 0n)
      const balance = await this.options.balance(wallet)
      if (needed > balance) throw new InsufficientFundsError(wallet, balance, needed)
      for (const record of fresh) {
        const opening = (async () => { await this.openSession(record, entry.cid, await this.fundEscrow(escrow, wallet, record, size, paid.length)) })()
        this.opening.set(sessionKey(record), opening)
        opening.finally(() => { this.opening.delete(sessionKey(record)) }).catch(() => {})
      }
      // A seeder found twice at once (late, and by a new lookup) gets one escrow and one session.
      const ready = await Promise.all(paid.filter(record => !inSession.includes(record)).map(async record => {
        try {
          await this.opening.get(sessionKey(record))
          return this.sessions.has(sessionKey(record)) ? record : undefined
        } catch (err) {
          this.options.log.warn({ peer: record.peerId, err: errorMessage(err) }, 'cannot pay this seeder; not using it')
          return undefined
        }
      }))
      const accepted = [...inSession, ...ready.filter((record): record is FileRecord => record != null)]
      if (first && accepted.length === 0 && free.length === 0) throw new PaymentsUnavailableError('no paid seeder accepted a payment session')
      return [...free, ...accepted]
    } catch (err) {
      if (first) throw err
      this.options.log.warn({ cid: entry.cid, err: errorMessage(err) }, 'not using newly found paid seeders')
      return free
    }
  }

  /**
   * Signs and sends a receipt for a chunk a paid seeder delivered and that passed verification.
   * The amount is the escrow's one cumulative counter, so downloads sharing an escrow add up.
   */
  onChunkVerified (cid: string, peerId: string, bytes: number): void {
    const session = this.sessions.get(`${peerId}:${cid}`)
    if (session == null) return
    this.payFor(session, costOf(bytes, session.pricePerMiB), BigInt(bytes)).catch(err => { this.options.log.warn({ err: errorMessage(err) }, 'could not sign a receipt') })
  }

  /**
   * Notes a chunk request this node called off (a raced duplicate, a stopped download) after a
   * paid seeder may have started serving it: the seeder counted it, so it is paid for when the
   * download ends, up to what the seeder says is unpaid.
   */
  onChunkCalledOff (cid: string, peerId: string, bytes: number): void {
    const session = this.sessions.get(`${peerId}:${cid}`)
    if (session != null) session.calledOffWorth += costOf(bytes, session.pricePerMiB)
  }

  /** Adds `amount` (and `bytes` of the session's file) to the escrow's counter, then signs and sends the receipt. */
  private async payFor (session: Session, amount: bigint, bytes: bigint): Promise<void> {
    await this.receipts.run(async () => {
      const signer = this.options.signer()
      const escrow = this.options.escrow()
      if (signer == null || escrow == null) return
      const signed = await this.recordSigned(session.escrowId, session.cid, amount, bytes)
      if (signed == null) return
      const { cumulativeAmount, contentBytes } = signed
      const receipt = await signReceipt(signer, await escrow.domain(), {
        escrowId: session.escrowId, seeder: session.seeder, contentId: receiptContentId(parseContentId(session.cid)), contentBytes, cumulativeAmount
      })
      this.send(session.out, receiptFrame(receipt))
    })
  }

  /**
   * Pays for called-off requests before a session ends: never more than their worth, nor more
   * than the seeder says its escrow is owed, so the escrow's credit window is whole for the next
   * download instead of shrinking by every raced chunk.
   */
  private async settleCalledOff (session: Session): Promise<void> {
    if (session.calledOffWorth === 0n) return
    const balance = await this.askBalance(session)
    const owed = BigInt(balance.servedAmount) - BigInt(balance.receiptedAmount)
    const amount = owed < session.calledOffWorth ? owed : session.calledOffWorth
    session.calledOffWorth = 0n
    if (amount > 0n) await this.payFor(session, amount, 0n)
  }

  private async askBalance (session: Session): Promise<BalanceAnswerMessage> {
    const answer = new Promise<BalanceAnswerMessage>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('the seeder did not answer a balance query')) }, BALANCE_QUERY_TIMEOUT_MS)
      session.balanceWaiters.push(balance => {
        clearTimeout(timer)
        resolve(balance)
      })
    })
    this.send(session.out, { type: 'balance' })
    return await answer
  }

  async endDownload (cid: string): Promise<void> {
    await this.receipts.run(async () => {})
    const ending = [...this.sessions.values()].filter(session => session.cid === cid)
    await Promise.all(ending.map(async session => {
      await this.settleCalledOff(session).catch(err => { this.options.log.warn({ peer: session.peerId, err: errorMessage(err) }, 'could not pay for called-off requests') })
    }))
    await this.receipts.run(async () => {})
    for (const session of ending) {
      this.sessions.delete(`${session.peerId}:${cid}`)
      session.out.end()
    }
    await Promise.all(ending.map(async session => await session.sending))
  }

  async ownEscrows (): Promise<OwnEscrow[]> {
    return await this.escrows.values()
  }

  /** Takes back what is left in escrows past their expiry and settlement grace; returns the refunds made. */
  async refundExpired (): Promise<Array<{ escrowId: string, txHash: string }>> {
    const escrow = this.options.escrow()
    if (escrow == null) return []
    // By the chain's time, not the clock's: a refund mined in a block stamped within the grace reverts and costs gas.
    const now = this.options.headTimestamp()
    const refunds: Array<{ escrowId: string, txHash: string }> = []
    for (const own of await this.escrows.values()) {
      if (own.refundTx != null || own.expiry + SETTLEMENT_GRACE_SECONDS >= now) continue
      const state = await escrow.escrow(BigInt(own.escrowId))
      if (state.deposit === state.redeemed) {
        await this.escrows.put(escrowKey(own.escrowId), { ...own, refundTx: 'none' })
        continue
      }
      let tx
      try {
        tx = await escrow.refund(BigInt(own.escrowId))
      } catch (err) {
        this.options.log.warn({ escrowId: own.escrowId, err: errorMessage(err) }, 'could not refund an escrow; retrying later')
        continue
      }
      await this.escrows.put(escrowKey(own.escrowId), { ...own, refundTx: tx.hash })
      refunds.push({ escrowId: own.escrowId, txHash: tx.hash })
      this.options.log.info({ escrowId: own.escrowId, tx: tx.hash }, 'refunded an expired escrow')
    }
    return refunds
  }

  private async planEscrow (escrow: EscrowClient, wallet: string, record: FileRecord, size: number, seeders: number): Promise<EscrowPlan> {
    const price = BigInt(record.pricePerMiB)
    const share = costOf(Math.ceil(size / seeders), price) * (100n + ESCROW_MARGIN_PERCENT) / 100n
    const wanted = (share < costOf(size, price) ? share : costOf(size, price)) + costOf(this.options.creditWindowBytes, price)
    const minExpiry = BigInt(Math.floor(Date.now() / 1000) + Math.floor(this.options.escrowDurationSeconds / 2))
    const existing = await escrow.latestEscrow(wallet, record.wallet)
    const own = existing == null ? undefined : await this.escrows.get(escrowKey(existing.id))
    if (existing != null && own != null && own.refundTx == null && existing.expiry >= minExpiry) {
      const unsigned = existing.deposit - BigInt(own.cumulativeAmount)
      return { record, existing: existing.id, topUp: unsigned >= wanted ? 0n : wanted - unsigned, expiry: existing.expiry }
    }
    const deposit = wanted > this.options.escrowMinimumDepositWei ? wanted : this.options.escrowMinimumDepositWei
    return { record, topUp: deposit, expiry: BigInt(Math.floor(Date.now() / 1000) + this.options.escrowDurationSeconds) }
  }

  /** Plans under the seeder's lock, so it sees what another download opened or topped up meanwhile. */
  private async fundEscrow (escrow: EscrowClient, wallet: string, record: FileRecord, size: number, seeders: number): Promise<bigint> {
    const lock = this.funding.get(record.wallet) ?? new Mutex()
    this.funding.set(record.wallet, lock)
    return await lock.run(async () => {
      const plan = await this.planEscrow(escrow, wallet, record, size, seeders)
      if (plan.existing != null) {
        if (plan.topUp > 0n) await escrow.topUp(plan.existing, plan.topUp, plan.expiry)
        const key = escrowKey(plan.existing)
        const own = await this.escrows.get(key)
        if (own != null) await this.escrows.put(key, { ...own, deposit: (BigInt(own.deposit) + plan.topUp).toString() })
        return plan.existing
      }
      const { escrowId } = await escrow.open(plan.record.wallet, plan.topUp, plan.expiry)
      await this.escrows.put(escrowKey(escrowId), {
        escrowId: escrowId.toString(), seeder: plan.record.wallet, deposit: plan.topUp.toString(), expiry: Number(plan.expiry), cumulativeAmount: '0', contentBytes: {}
      })
      this.options.log.info({ escrowId: escrowId.toString(), seeder: plan.record.wallet, deposit: plan.topUp.toString() }, 'opened an escrow')
      return escrowId
    })
  }

  /**
   * Offers a session on `escrowId`; a refusal the seeder marks retryable (it has not seen the
   * escrow's block yet) is offered again for a while.
   */
  private async openSession (record: FileRecord, cid: string, escrowId: bigint): Promise<void> {
    const giveUpAt = Date.now() + SESSION_RETRY_LIMIT_MS
    for (;;) {
      const refusal = await this.offerSession(record, cid, escrowId)
      if (refusal == null) return
      if (refusal.retryable !== true || Date.now() + SESSION_RETRY_INTERVAL_MS > giveUpAt) throw new Error(`${refusal.code}: ${refusal.message}`)
      this.options.log.debug({ peer: record.peerId, code: refusal.code }, 'seeder cannot take the session yet; offering it again')
      await new Promise(resolve => setTimeout(resolve, SESSION_RETRY_INTERVAL_MS))
    }
  }

  private async offerSession (record: FileRecord, cid: string, escrowId: bigint): Promise<SessionRefusedMessage | undefined> {
    const stream = await this.options.host.dialProtocol(peerIdFromString(record.peerId) as PeerId, PAYMENT_PROTOCOL, { signal: AbortSignal.timeout(15_000) })
    const out = pushable<Uint8Array>()
    const reader = new FrameReader(stream.source)
    const sink = stream.sink(out).catch(() => {})
    this.send(out, { type: 'open', cid, escrowId: escrowId.toString(), pricePerMiB: record.pricePerMiB })
    const answer = parseSeederMessage(await this.receive(reader))
    if (answer.type !== 'accepted') {
      out.end()
      await sink
      if (answer.type === 'refused') return answer
      throw new ProtocolError('unexpected answer to a session offer')
    }
    const session: Session = {
      peerId: record.peerId,
      cid,
      escrowId,
      seeder: record.wallet,
      pricePerMiB: BigInt(record.pricePerMiB),
      credential: answer.credential,
      calledOffWorth: 0n,
      balanceWaiters: [],
      out,
      sending: sink
    }
    session.sending = Promise.all([sink, this.readAcks(session, reader)]).then(() => {})
    this.sessions.set(`${record.peerId}:${cid}`, session)
    return undefined
  }

  private async readAcks (session: Session, reader: FrameReader): Promise<void> {
    try {
      for (;;) {
        const raw = await this.receive(reader, true)
        if (raw === undefined) return
        const answer = parseSeederMessage(raw)
        if (answer.type === 'balance') session.balanceWaiters.shift()?.(answer)
        if (answer.type === 'ack' && answer.error != null) this.options.log.warn({ peer: session.peerId, error: answer.error }, 'seeder rejected a receipt')
      }
    } catch (err) {
      this.options.log.debug({ peer: session.peerId, err: errorMessage(err) }, 'payment stream ended')
    }
  }

  private send (out: Pushable<Uint8Array>, message: unknown): void {
    const frame = frameJson(message)
    this.traffic.sentBytes += frame.length
    out.push(frame)
  }

  private async receive (reader: FrameReader, allowEnd = false): Promise<unknown> {
    const frame = allowEnd ? await reader.readFrame(MAX_PAYMENT_FRAME_BYTES, true) : await reader.readFrame(MAX_PAYMENT_FRAME_BYTES)
    if (frame === undefined) return undefined
    this.traffic.receivedBytes += 4 + frame.length
    try {
      return JSON.parse(Buffer.from(frame).toString('utf8'))
    } catch {
      throw new ProtocolError('payment frame is not JSON')
    }
  }

  /** Adds a verified chunk to its escrow's signed totals, durably before the receipt is signed. */
  private async recordSigned (escrowId: bigint, cid: string, amount: bigint, bytes: bigint): Promise<{ cumulativeAmount: bigint, contentBytes: bigint } | undefined> {
    const key = escrowKey(escrowId)
    const own = await this.escrows.get(key)
    if (own == null) return undefined
    const cumulativeAmount = BigInt(own.cumulativeAmount) + amount
    const contentBytes = BigInt(own.contentBytes[cid] ?? '0') + bytes
    await this.escrows.put(key, { ...own, cumulativeAmount: cumulativeAmount.toString(), contentBytes: { ...own.contentBytes, [cid]: contentBytes.toString() } })
    return { cumulativeAmount, contentBytes }
  }
}

interface EscrowPlan {
  record: FileRecord
  existing?: bigint
  topUp: bigint
  expiry: bigint
}

/**
 * The dearest price per MiB the user accepted: the explicit ceiling, and the one the accepted
 * total cost implies for this size (a seeder found after the quote may ask more; it is not used).
 */
function priceCeiling (entry: DownloadEntry, size: number): bigint | undefined {
  const explicit = entry.limits?.maxPricePerMiB == null ? undefined : BigInt(entry.limits.maxPricePerMiB)
  if (entry.limits?.maxCostWei == null || size === 0) return explicit
  const implied = BigInt(entry.limits.maxCostWei) * BYTES_PER_MIB / BigInt(size)
  return explicit == null || implied < explicit ? implied : explicit
}

function minPrice (records: FileRecord[]): bigint {
  return records.reduce((min, record) => BigInt(record.pricePerMiB) < min ? BigInt(record.pricePerMiB) : min, BigInt(records[0]?.pricePerMiB ?? 0))
}
