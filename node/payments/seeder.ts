import type { Stream } from '@libp2p/interface'
import { getAddress } from 'ethers'
import { pushable } from 'it-pushable'
import { randomBytes } from 'node:crypto'
import { parseContentId } from '../content/cid.js'
import { FrameReader, frameJson } from '../p2p/framing.js'
import type { ServeDecision, ServeGate, ServeRequest } from '../transfer/source.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { Mutex } from '../util/mutex.js'
import { ESCROW_RECHECK_INTERVAL_MS, ESCROW_SERVE_MARGIN_SECONDS, MAX_PAYMENT_FRAME_BYTES, MAX_SESSIONS_PER_ESCROW, MIN_ESCROW_REMAINING_SECONDS } from './constants.js'
import { EscrowNotFoundError } from './errors.js'
import type { EscrowClient, EscrowState } from './escrow-client.js'
import type { EarningsLedger, HeldReceipt } from './ledger.js'
import { costOf } from './pricing.js'
import { parseLeecherMessage, type OpenSessionMessage, type ReceiptFrameMessage, type SessionRefusedMessage } from './protocol.js'
import { receiptContentId, receiptSigner } from './receipts.js'

export interface SeederPaymentsOptions {
  ledger: EarningsLedger
  /** The escrow contract with the node wallet as signer; undefined while there is none or it is locked. */
  escrow: () => EscrowClient | undefined
  wallet: () => string
  /** The price a seeded file has now, undefined if it is not seeded. */
  priceOf: (cid: string) => Promise<bigint | undefined>
  /** Unix seconds by the later of this machine's clock and the chain head's timestamp. */
  now: () => number
  creditWindowBytes: number
  log: Logger
}

/**
 * Everything served and signed under one escrow, shared by every session, peer id, credential
 * and transport that names it: the credit window is the escrow's, not a session's.
 */
interface EscrowAccount {
  escrowId: bigint
  leecher: string
  deposit: bigint
  /** Unix seconds; nothing is served within ESCROW_SERVE_MARGIN_SECONDS of it. */
  expiry: bigint
  /** The highest cumulative amount the leecher signed (held here) or the contract paid out. */
  receipted: bigint
  /** What everything served under the escrow is worth, on the same cumulative scale. */
  served: bigint
  sessions: Set<Session>
  checkedAt: number
  refreshing?: Promise<void>
}

interface Session {
  peerId: string
  cid: string
  pricePerMiB: bigint
  /** The bearer token HTTP requests of this session carry; it ends with the session. */
  credential: string
  account: EscrowAccount
}

type Refusal = Omit<SessionRefusedMessage, 'type'>

/**
 * The seeder's side of payments: the gate every transport asks before serving bytes of a paid
 * file, and the payment protocol that accepts sessions and receipts. Redemption is the Redeemer's.
 */
export class SeederPayments implements ServeGate {
  private readonly sessions = new Map<string, Session>()
  private readonly byCredential = new Map<string, Session>()
  private readonly accounts = new Map<bigint, EscrowAccount>()
  /** Receipts are checked against and stored over the held one strictly one at a time. */
  private readonly receipts = new Mutex()
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
    const account = session.account
    const cost = costOf(request.bytes, session.pricePerMiB)
    if (this.expiring(account) || account.served + cost > account.deposit) await this.refresh(account)
    if (this.expiring(account)) {
      return { allowed: false, reason: `payment required: escrow ${account.escrowId} expires at ${account.expiry}; nothing more is served on it` }
    }
    if (account.served + cost > account.deposit) {
      return { allowed: false, reason: `payment required: escrow ${account.escrowId} is used up` }
    }
    const unpaid = account.served + cost - account.receipted
    if (unpaid > costOf(this.options.creditWindowBytes, session.pricePerMiB)) {
      return { allowed: false, reason: `payment required: receipts for escrow ${account.escrowId} lag ${unpaid} wei behind what was served` }
    }
    account.served += cost
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
          if (session != null) throw new Error('a payment stream carries one session')
          const opened = await this.openSession(message, peerId)
          if ('code' in opened) {
            out.push(frameJson({ type: 'refused', ...opened }))
            break
          }
          session = opened
          out.push(frameJson({ type: 'accepted', credential: session.credential, creditWindowBytes: this.options.creditWindowBytes, receiptedAmount: session.account.receipted.toString() }))
        } else if (message.type === 'balance') {
          if (session == null) throw new Error('balance asked before a session was opened')
          out.push(frameJson({ type: 'balance', receiptedAmount: session.account.receipted.toString(), servedAmount: session.account.served.toString() }))
        } else {
          if (session == null) throw new Error('receipt before a session was opened')
          const current = session
          const error = await this.receipts.run(async () => { await this.acceptReceipt(current, message) }).then(() => undefined, (err: unknown) => errorMessage(err))
          out.push(frameJson({ type: 'ack', cumulativeAmount: session.account.receipted.toString(), ...(error == null ? {} : { error }) }))
        }
      }
    } catch (err) {
      this.options.log.debug({ peer: peerId, err: errorMessage(err) }, 'payment stream failed')
    } finally {
      out.end()
      await sending
      if (session != null) this.endSession(session)
    }
  }

  /**
   * Drops a session and its credential. Its escrow's account stays while it is in debt and live,
   * so a new session on the same escrow does not renew the credit window.
   */
  private endSession (session: Session): void {
    if (this.sessions.get(sessionKey(session.peerId, session.cid)) === session) this.sessions.delete(sessionKey(session.peerId, session.cid))
    if (this.byCredential.get(session.credential) === session) this.byCredential.delete(session.credential)
    const account = session.account
    account.sessions.delete(session)
    const settled = account.served <= account.receipted
    if (account.sessions.size === 0 && (settled || BigInt(this.options.now()) > account.expiry)) this.accounts.delete(account.escrowId)
  }

  private async openSession (message: OpenSessionMessage, peerId: string): Promise<Session | Refusal> {
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
    let state: EscrowState
    try {
      state = await escrow.escrow(escrowId)
    } catch (err) {
      // The block holding a just-opened escrow may not have reached this node yet.
      if (err instanceof EscrowNotFoundError) return { code: 'ESCROW_NOT_FOUND', message: `escrow ${escrowId} is not on this seeder's chain yet`, retryable: true }
      return { code: 'ESCROW_UNREADABLE', message: errorMessage(err), retryable: true }
    }
    if (getAddress(state.seeder) !== getAddress(wallet)) return { code: 'WRONG_SEEDER', message: `escrow ${escrowId} pays ${state.seeder}, not ${wallet}` }
    if (state.expiry < BigInt(this.options.now() + MIN_ESCROW_REMAINING_SECONDS)) return { code: 'ESCROW_EXPIRING', message: `escrow ${escrowId} expires too soon` }
    if (state.deposit <= state.redeemed) return { code: 'ESCROW_EMPTY', message: `escrow ${escrowId} has nothing left` }
    const account = await this.account(state)
    // Synchronous from here on: a session opened concurrently for the same peer and file is replaced, credential and all.
    const key = sessionKey(peerId, message.cid)
    const previous = this.sessions.get(key)
    if (previous != null) this.endSession(previous)
    if (account.sessions.size >= MAX_SESSIONS_PER_ESCROW) return { code: 'TOO_MANY_SESSIONS', message: `escrow ${escrowId} already backs ${account.sessions.size} sessions` }
    const session: Session = { peerId, cid: message.cid, pricePerMiB: price, credential: randomBytes(24).toString('base64url'), account }
    account.sessions.add(session)
    this.sessions.set(key, session)
    this.byCredential.set(session.credential, session)
    this.options.log.info({ peer: peerId, cid: message.cid, escrowId: escrowId.toString(), price: price.toString() }, 'payment session opened')
    return session
  }

  /** The escrow's live account, or a new one that starts with nothing served beyond what is signed. */
  private async account (state: EscrowState): Promise<EscrowAccount> {
    const held = await this.options.ledger.heldReceipt(state.id)
    const live = this.accounts.get(state.id)
    if (live != null) {
      live.deposit = state.deposit
      live.expiry = state.expiry
      return live
    }
    const receipted = held != null && BigInt(held.cumulativeAmount) > state.redeemed ? BigInt(held.cumulativeAmount) : state.redeemed
    const account: EscrowAccount = { escrowId: state.id, leecher: state.leecher, deposit: state.deposit, expiry: state.expiry, receipted, served: receipted, sessions: new Set(), checkedAt: Date.now() }
    this.accounts.set(state.id, account)
    return account
  }

  private expiring (account: EscrowAccount): boolean {
    return BigInt(this.options.now() + ESCROW_SERVE_MARGIN_SECONDS) >= account.expiry
  }

  /** Reads the escrow again (a top-up or a later expiry), at most once per interval and one read at a time. */
  private async refresh (account: EscrowAccount): Promise<void> {
    if (account.refreshing == null && Date.now() - account.checkedAt >= ESCROW_RECHECK_INTERVAL_MS) {
      const escrow = this.options.escrow()
      if (escrow == null) return
      account.refreshing = escrow.escrow(account.escrowId).then(state => {
        account.deposit = state.deposit
        account.expiry = state.expiry
      }, (err: unknown) => {
        this.options.log.debug({ escrowId: account.escrowId.toString(), err: errorMessage(err) }, 'could not read an escrow again')
      }).finally(() => {
        account.checkedAt = Date.now()
        account.refreshing = undefined
      })
    }
    await account.refreshing
  }

  private async acceptReceipt (session: Session, frame: ReceiptFrameMessage): Promise<void> {
    const escrow = this.options.escrow()
    if (escrow == null) throw new Error('no escrow contract')
    const account = session.account
    const message = {
      escrowId: BigInt(frame.escrowId),
      seeder: frame.seeder,
      contentId: frame.contentId,
      contentBytes: BigInt(frame.contentBytes),
      cumulativeAmount: BigInt(frame.cumulativeAmount)
    }
    if (message.escrowId !== account.escrowId) throw new Error(`receipt for escrow ${message.escrowId}, session uses ${account.escrowId}`)
    if (getAddress(message.seeder) !== getAddress(this.options.wallet())) throw new Error('receipt names another seeder')
    if (message.contentId !== receiptContentId(parseContentId(session.cid))) throw new Error('receipt names another file')
    if (message.cumulativeAmount <= account.receipted) {
      throw new Error(`receipt for ${message.cumulativeAmount} wei is not above the ${account.receipted} wei already held for escrow ${account.escrowId}`)
    }
    const signer = receiptSigner(await escrow.domain(), { message, signature: frame.signature })
    if (getAddress(signer) !== getAddress(account.leecher)) throw new Error('receipt is not signed by the escrow\'s leecher')
    const previous = await this.options.ledger.heldReceipt(message.escrowId)
    const previousFileBytes = BigInt(previous?.contentBytesByFile?.[message.contentId] ?? '0')
    const held: HeldReceipt = {
      escrowId: message.escrowId.toString(),
      leecher: account.leecher,
      peerId: session.peerId,
      cid: session.cid,
      contentId: message.contentId,
      contentBytes: message.contentBytes.toString(),
      contentBytesByFile: { ...previous?.contentBytesByFile, [message.contentId]: (message.contentBytes > previousFileBytes ? message.contentBytes : previousFileBytes).toString() },
      cumulativeAmount: message.cumulativeAmount.toString(),
      signature: frame.signature,
      seeder: message.seeder,
      expiry: Number(account.expiry),
      redeemedAmount: previous?.redeemedAmount ?? account.receipted.toString(),
      receivedAt: Date.now()
    }
    await this.options.ledger.recordReceipt(held, {
      escrowId: held.escrowId,
      cumulativeAmount: held.cumulativeAmount,
      cid: session.cid,
      peerId: session.peerId,
      wallet: account.leecher,
      amount: (message.cumulativeAmount - account.receipted).toString(),
      bytes: (message.contentBytes > previousFileBytes ? message.contentBytes - previousFileBytes : 0n).toString(),
      at: Date.now()
    })
    account.receipted = message.cumulativeAmount
  }
}

function sessionKey (peerId: string, cid: string): string {
  return `${peerId}:${cid}`
}
