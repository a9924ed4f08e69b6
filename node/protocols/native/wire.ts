import { ProtocolError } from '../../util/errors.js'

/**
 * The native transfer protocol: a libp2p stream carries requests one after another, each
 * answered in order, so a chunk costs one request frame rather than a stream set-up; the server
 * bounds the requests queued per stream and the streams per connection.
 *   request:  [u32 length][JSON TransferRequest]
 *   response: [u32 length][JSON ResponseHeader][body of header.length bytes when status is ok]
 */
export type TransferRequest =
  | { op: 'manifest', cid: string }
  | { op: 'chunk', cid: string, index: number }

export type ResponseHeader =
  | { status: 'ok', length: number }
  | { status: 'not-found' | 'bad-request' | 'payment-required' | 'error', message: string }

export function parseRequest (value: unknown): TransferRequest {
  const request = value as Partial<{ op: string, cid: string, index: number }>
  if (typeof request?.cid !== 'string' || request.cid.length > 128) throw new ProtocolError('request without a valid cid')
  if (request.op === 'manifest') return { op: 'manifest', cid: request.cid }
  if (request.op === 'chunk' && Number.isSafeInteger(request.index) && (request.index as number) >= 0) {
    return { op: 'chunk', cid: request.cid, index: request.index as number }
  }
  throw new ProtocolError('unknown request')
}

