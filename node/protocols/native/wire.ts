import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../../util/errors.js'

/**
 * The native transfer protocol: one libp2p stream per request.
 *   request:  [u32 length][JSON TransferRequest]
 *   response: [u32 length][JSON ResponseHeader][body of header.length bytes when status is ok]
 */
export type TransferRequest =
  | { op: 'manifest', cid: string }
  | { op: 'chunk', cid: string, index: number }

export type ResponseHeader =
  | { status: 'ok', length: number }
  | { status: 'not-found' | 'bad-request' | 'error', message: string }

export function frameJson (value: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(value))
  const out = Buffer.allocUnsafe(4 + json.length)
  out.writeUInt32BE(json.length, 0)
  json.copy(out, 4)
  return out
}

export function parseRequest (value: unknown): TransferRequest {
  const request = value as Partial<{ op: string, cid: string, index: number }>
  if (typeof request?.cid !== 'string' || request.cid.length > 128) throw new ProtocolError('request without a valid cid')
  if (request.op === 'manifest') return { op: 'manifest', cid: request.cid }
  if (request.op === 'chunk' && Number.isSafeInteger(request.index) && (request.index as number) >= 0) {
    return { op: 'chunk', cid: request.cid, index: request.index as number }
  }
  throw new ProtocolError('unknown request')
}

type ByteSource = AsyncIterable<Uint8ArrayList | Uint8Array>

/**
 * Reads one length-prefixed JSON frame and then, if `bodyLength` says so, exactly that many
 * bytes; anything larger than the limits, or trailing bytes, is a protocol error.
 */
export class FrameReader {
  private readonly buffered = new Uint8ArrayList()
  private readonly iterator: AsyncIterator<Uint8ArrayList | Uint8Array>

  constructor (source: ByteSource) {
    this.iterator = source[Symbol.asyncIterator]()
  }

  async readJson (maxBytes: number): Promise<unknown> {
    await this.fill(4)
    const length = this.buffered.getUint32(0)
    if (length > maxBytes) throw new ProtocolError(`frame of ${length} bytes exceeds the ${maxBytes}-byte limit`)
    await this.fill(4 + length)
    const json = this.buffered.subarray(4, 4 + length)
    this.buffered.consume(4 + length)
    try {
      return JSON.parse(Buffer.from(json).toString('utf8'))
    } catch {
      throw new ProtocolError('frame is not JSON')
    }
  }

  async readBody (length: number): Promise<Uint8Array> {
    const body = Buffer.allocUnsafe(length)
    let filled = 0
    for (const piece of this.buffered) {
      if (filled + piece.length > length) throw new ProtocolError('peer sent more bytes than announced')
      body.set(piece, filled)
      filled += piece.length
    }
    this.buffered.consume(this.buffered.length)
    while (filled < length) {
      const next = await this.iterator.next()
      if (next.done === true) throw new ProtocolError(`stream ended after ${filled} of ${length} bytes`)
      const pieces = next.value instanceof Uint8Array ? [next.value] : next.value
      for (const piece of pieces) {
        if (filled + piece.length > length) throw new ProtocolError('peer sent more bytes than announced')
        body.set(piece, filled)
        filled += piece.length
      }
    }
    return body
  }

  private async fill (bytes: number): Promise<void> {
    while (this.buffered.length < bytes) {
      const next = await this.iterator.next()
      if (next.done === true) throw new ProtocolError('stream ended early')
      this.buffered.append(next.value)
    }
  }
}
