import type { Stream } from '@libp2p/interface'
import { getAddress } from 'ethers'
import { pushable } from 'it-pushable'
import { randomBytes } from 'node:crypto'
import { parseContentId } from '../content/cid.js'
import { FrameReader, frameJson } from '../p2p/framing.js'
import type { ServeDecision, ServeGate, ServeRequest } from '../transfer/source.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { MAX_PAYMENT_FRAME_BYTES, MIN_ESCROW_REMAINING_SECONDS } from './constants.js'
import type { EscrowClient } from './escrow-client.js'
import type { EarningsLedger, HeldReceipt } from './ledger.js'
import { costOf } from './pricing.js'
import { parseLeecherMessage, type OpenSessionMessage, type ReceiptFrameMessage } from './protocol.js'
import { receiptContentId, receiptSigner } from './receipts.js'

export interface SeederPaymentsOptions {
  ledger: EarningsLedger
  /** The escrow contract with the node wallet as signer; undefined while there is none or it is locked. */
  escrow: () => EscrowClient | undefined
  wallet: () => string
  /** The price a seeded file has now, undefined if it is not seeded. */
  priceOf: (cid: string) => Promise<bigint | undefined>
  creditWindowBytes: number
  log: Logger
}

interface Session {
  peerId: string
  cid: string
  escrowId: bigint
  leecher: string
  pricePerMiB: bigint
  deposit: bigint
  /** Unix seconds, as read from the chain when the session began. */
  expiry: bigint
  /** The escrow's receipted amount when the session began; this session's receipts add to it. */
  baseline: bigint
  receipted: bigint
  servedBytes: bigint
  /** The bearer token HTTP requests of this session carry. */
  credential: string
}

/**
 * The seeder's side of payments: the gate every transport asks before serving bytes of a paid
 * file, the payment protocol that accepts sessions and receipts, and redemption on-chain.
 */
export class SeederPayments implements ServeGate {
  private readonly sessions = new Map<string, Session>()
  private readonly byCredential = new Map<string, Session>()
  /** Prices each file was advertised at, so a download keeps the price it started with. */
  private readonly advertisedPrices = new Map<string, Set<bigint>>()

  constructor (private readonly options: SeederPaymentsOptions) {}

  notePrice (cid: string, pricePerMiB: bigint): void {
    const prices = this.advertisedPrices.get(cid) ?? new Set()
    prices.add(pricePerMiB)
    this.advertisedPrices.set(cid, prices)
  }

  async admit (request: ServeRequest): Promise<ServeDecision> {
    const price = await this.options.priceOf(request.cid)
    if (price == null || price === 0n) return { allowed: true }
    const session = request.peerId != null
      ? this.sessions.get(sessionKey(request.peerId, request.cid))
      : request.credential == null ? undefined : this.byCredential.get(request.credential)
    if (session == null || session.cid !== request.cid) {
      return { allowed: false, reason: `payment required: ${request.cid} costs ${price} wei per MiB; open a payment session first` }
    }
    const owedAfter = costOf(session.servedBytes + BigInt(request.bytes), session.pricePerMiB)
    if (session.baseline + owedAfter > session.deposit) {
      return { allowed: false, reason: `payment required: escrow ${session.escrowId} is used up` }
    }
    const unpaid = owedAfter - (session.receipted - session.baseline)
    if (unpaid > costOf(this.options.creditWindowBytes, session.pricePerMiB)) {
      return { allowed: false, reason: `payment required: receipts lag ${unpaid} wei behind what was served` }
    }
    session.servedBytes += BigInt(request.bytes)
    return { allowed: true }
  }

  /** One leecher's payment stream: an open frame, then receipts, each acknowledged once stored. */
  async handle (stream: Stream, peerId: string): Promise<void> {
    const reader = new FrameReader(stream.source)
    const out = pushable<Uint8Array>()
    const sending = stream.sink(out).catch(() => {})
    let session: Session | undefined
    try {
      for (;;) {
        const raw = await reader.readJson(MAX_PAYMENT_FRAME_BYTES, true)
        if (raw === undefined) break
        const message = parseLeecherMessage(raw)
        if (message.type === 'open') {
          const opened = await this.openSession(message, peerId)
          if ('code' in opened) {
            out.push(frameJson({ type: 'refused', ...opened }))
            break
          }
          session = opened.session
          out.push(frameJson({ type: 'accepted', credential: opened.credential, creditWindowBytes: this.options.creditWindowBytes, receiptedAmount: session.receipted.toString() }))
        } else {
          if (session == null) throw new Error('receipt before a session was opened')
          const error = await this.acceptReceipt(session, message).then(() => undefined, (err: unknown) => errorMessage(err))
          out.push(frameJson({ type: 'ack', cumulativeAmount: session.receipted.toString(), ...(error == null ? {} : { error }) }))
        }
      }
    } catch (err) {
      this.options.log.debug({ peer: peerId, err: errorMessage(err) }, 'payment stream failed')
    } finally {
      out.end()
      await sending
      if (session != null && this.sessions.get(sessionKey(peerId, session.cid)) === session && isSettled(session)) this.forget(session)
    }
  }

  /** A session paid up is dropped with its stream; one in debt stays, so reconnecting does not renew the credit window. */
  private forget (session: Session): void {
    this.sessions.delete(sessionKey(session.peerId, session.cid))
    this.byCredential.delete(session.credential)
  }

  private async openSession (message: OpenSessionMessage, peerId: string): Promise<{ session: Session, credential: string } | { code: string, message: string }> {
    const escrow = this.options.escrow()
    const wallet = this.options.wallet()
    if (escrow == null || wallet === '') return { code: 'SEEDER_NOT_PAYABLE', message: 'this seeder has no unlocked wallet or escrow contract' }
    const current = await this.options.priceOf(message.cid)
    if (current == null) return { code: 'NOT_SEEDING', message: `not seeding ${message.cid}` }
    const price = BigInt(message.pricePerMiB)
    if (price < current && !(this.advertisedPrices.get(message.cid)?.has(price) ?? false)) {
      return { code: 'PRICE_MISMATCH', message: `the price is ${current} wei per MiB` }
    }
    const escrowId = BigInt(message.escrowId)
    let state
    try {
      state = await escrow.escrow(escrowId)
    } catch (err) {
      return { code: 'ESCROW_UNREADABLE', message: errorMessage(err) }
    }
    if (getAddress(state.seeder) !== getAddress(wallet)) return { code: 'WRONG_SEEDER', message: `escrow ${escrowId} pays ${state.seeder}, not ${wallet}` }
    if (state.expiry < BigInt(Math.floor(Date.now() / 1000) + MIN_ESCROW_REMAINING_SECONDS)) return { code: 'ESCROW_EXPIRING', message: `escrow ${escrowId} expires too soon` }
    if (state.deposit <= state.redeemed) return { code: 'ESCROW_EMPTY', message: `escrow ${escrowId} has nothing left` }
    // A peer reopening a session keeps its debt: a fresh session must not renew the credit window.
    const previous = this.sessions.get(sessionKey(peerId, message.cid))
    if (previous != null && previous.escrowId !== escrowId && !isSettled(previous)) {
      return { code: 'UNPAID_SESSION', message: `pay for what escrow ${previous.escrowId} already received first` }
    }
    const held = await this.options.ledger.heldReceipt(escrowId)
    const receipted = held == null ? state.redeemed : BigInt(held.cumulativeAmount)
    const credential = randomBytes(24).toString('base64url')
    const session: Session = previous?.escrowId === escrowId
      ? { ...previous, deposit: state.deposit, expiry: state.expiry, credential }
      : { peerId, cid: message.cid, escrowId, leecher: state.leecher, pricePerMiB: price, deposit: state.deposit, expiry: state.expiry, baseline: receipted, receipted, servedBytes: 0n, credential }
    if (previous != null) this.forget(previous)
    this.sessions.set(sessionKey(peerId, message.cid), session)
    this.byCredential.set(credential, session)
    this.options.log.info({ peer: peerId, cid: message.cid, escrowId: escrowId.toString(), price: price.toString() }, 'payment session opened')
    return { session, credential }
  }

  private async acceptReceipt (session: Session, frame: ReceiptFrameMessage): Promise<void> {
    const escrow = this.options.escrow()
    if (escrow == null) throw new Error('no escrow contract')
    const message = {
      escrowId: BigInt(frame.escrowId),
      seeder: frame.seeder,
      contentId: frame.contentId,
      contentBytes: BigInt(frame.contentBytes),
      cumulativeAmount: BigInt(frame.cumulativeAmount)
    }
    if (message.escrowId !== session.escrowId) throw new Error(`receipt for escrow ${message.escrowId}, session uses ${session.escrowId}`)
    if (getAddress(message.seeder) !== getAddress(this.options.wallet())) throw new Error('receipt names another seeder')
    if (message.contentId !== receiptContentId(parseContentId(session.cid))) throw new Error('receipt names another file')
    if (message.cumulativeAmount <= session.receipted) return
    const signer = receiptSigner(await escrow.domain(), { message, signature: frame.signature })
    if (getAddress(signer) !== getAddress(session.leecher)) throw new Error('receipt is not signed by the escrow\'s leecher')
    const previous = await this.options.ledger.heldReceipt(message.escrowId)
    const previousAmount = previous == null ? session.baseline : BigInt(previous.cumulativeAmount)
    const previousBytes = previous?.contentId === message.contentId ? BigInt(previous.contentBytes) : 0n
    const held: HeldReceipt = {
      escrowId: message.escrowId.toString(),
      leecher: session.leecher,
      peerId: session.peerId,
      cid: session.cid,
      contentId: message.contentId,
      contentBytes: message.contentBytes.toString(),
      cumulativeAmount: message.cumulativeAmount.toString(),
      signature: frame.signature,
      seeder: message.seeder,
      expiry: Number(session.expiry),
      redeemedAmount: previous?.redeemedAmount ?? session.baseline.toString(),
      receivedAt: Date.now()
    }
    await this.options.ledger.recordReceipt(held, {
      escrowId: held.escrowId,
      cumulativeAmount: held.cumulativeAmount,
      cid: session.cid,
      peerId: session.peerId,
      wallet: session.leecher,
      amount: (message.cumulativeAmount - previousAmount).toString(),
      bytes: (message.contentBytes > previousBytes ? message.contentBytes - previousBytes : 0n).toString(),
      at: Date.now()
    })
    session.receipted = message.cumulativeAmount
  }
}

/** Whether the receipts of a session cover everything it was served. */
function isSettled (session: Session): boolean {
  return costOf(session.servedBytes, session.pricePerMiB) <= session.receipted - session.baseline
}

function sessionKey (peerId: string, cid: string): string {
  return `${peerId}:${cid}`
}
