import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ProtocolError } from '../util/errors.js'
import type { SignedReceipt } from './receipts.js'

const Uint = Type.String({ pattern: '^[0-9]{1,78}$' })
const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' })

/** Leecher -> seeder, first frame: pay for `cid` out of escrow `escrowId` at `pricePerMiB`. */
export const OpenSession = Type.Object({
  type: Type.Literal('open'),
  cid: Type.String({ maxLength: 128 }),
  escrowId: Uint,
  pricePerMiB: Uint
}, { additionalProperties: false })

/** Seeder -> leecher: the session is on; HTTP requests carry `credential` as a bearer token. */
export const SessionAccepted = Type.Object({
  type: Type.Literal('accepted'),
  credential: Type.String({ maxLength: 128 }),
  creditWindowBytes: Type.Integer({ minimum: 0 }),
  /** The escrow's cumulative amount the seeder already holds a receipt for. */
  receiptedAmount: Uint
}, { additionalProperties: false })

export const SessionRefused = Type.Object({
  type: Type.Literal('refused'),
  code: Type.String({ maxLength: 64 }),
  message: Type.String({ maxLength: 512 }),
  /** The same offer may succeed shortly (the escrow's block has not reached the seeder yet). */
  retryable: Type.Optional(Type.Boolean())
}, { additionalProperties: false })

/** Leecher -> seeder: a signed cumulative receipt (EIP-712, see receipt-typed-data.ts). */
export const ReceiptFrame = Type.Object({
  type: Type.Literal('receipt'),
  escrowId: Uint,
  seeder: Address,
  contentId: Type.String({ pattern: '^0x[0-9a-f]{64}$' }),
  contentBytes: Uint,
  cumulativeAmount: Uint,
  signature: Type.String({ pattern: '^0x[0-9a-fA-F]{130}$' })
}, { additionalProperties: false })

/** Leecher -> seeder: where does the escrow stand? (asked before a download's sessions end) */
export const BalanceQuery = Type.Object({
  type: Type.Literal('balance')
}, { additionalProperties: false })

/** Seeder -> leecher: the escrow's highest receipt held and the worth of everything served on it. */
export const BalanceAnswer = Type.Object({
  type: Type.Literal('balance'),
  receiptedAmount: Uint,
  servedAmount: Uint
}, { additionalProperties: false })

/** Seeder -> leecher: the receipt is stored durably (or why it was not). */
export const ReceiptAck = Type.Object({
  type: Type.Literal('ack'),
  cumulativeAmount: Uint,
  error: Type.Optional(Type.String({ maxLength: 512 }))
}, { additionalProperties: false })

export type OpenSessionMessage = Static<typeof OpenSession>
export type SessionAcceptedMessage = Static<typeof SessionAccepted>
export type SessionRefusedMessage = Static<typeof SessionRefused>
export type ReceiptFrameMessage = Static<typeof ReceiptFrame>
export type ReceiptAckMessage = Static<typeof ReceiptAck>
export type BalanceQueryMessage = Static<typeof BalanceQuery>
export type BalanceAnswerMessage = Static<typeof BalanceAnswer>

const LeecherMessage = Type.Union([OpenSession, ReceiptFrame, BalanceQuery])
const SeederMessage = Type.Union([SessionAccepted, SessionRefused, ReceiptAck, BalanceAnswer])

export function parseLeecherMessage (value: unknown): OpenSessionMessage | ReceiptFrameMessage | BalanceQueryMessage {
  if (!Value.Check(LeecherMessage, value)) throw new ProtocolError('malformed payment message')
  return value
}

export function parseSeederMessage (value: unknown): SessionAcceptedMessage | SessionRefusedMessage | ReceiptAckMessage | BalanceAnswerMessage {
  if (!Value.Check(SeederMessage, value)) throw new ProtocolError('malformed payment answer')
  return value
}

/** The wire form of a signed receipt. */
export function receiptFrame ({ message, signature }: SignedReceipt): ReceiptFrameMessage {
  return {
    type: 'receipt',
    escrowId: message.escrowId.toString(),
    seeder: message.seeder,
    contentId: message.contentId,
    contentBytes: message.contentBytes.toString(),
    cumulativeAmount: message.cumulativeAmount.toString(),
    signature
  }
}
