import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '../util/errors.js'

/** Length-prefixed frames for libp2p request/response protocols: [u32 length][bytes]. */
export function frameBytes (bytes: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(4 + bytes.length)
  out.writeUInt32BE(bytes.length, 0)
  out.set(bytes, 4)
  return out
}

export function frameJson (value: unknown): Uint8Array {
  const json = Buffer.from(JSON.stringify(value))
  const out = Buffer.allocUnsafe(4 + json.length)
  out.writeUInt32BE(json.length, 0)
  json.copy(out, 4)
  return out
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

  async readJson (maxBytes: number): Promise<unknown>
  async readJson (maxBytes: number, allowEnd: true): Promise<unknown>
  async readJson (maxBytes: number, allowEnd = false): Promise<unknown> {
    const json = allowEnd ? await this.readFrame(maxBytes, true) : await this.readFrame(maxBytes)
    if (json == null) return undefined
    try {
      return JSON.parse(Buffer.from(json).toString('utf8'))
    } catch {
      throw new ProtocolError('frame is not JSON')
    }
  }

  /** One [u32 length][bytes] frame, or undefined if the stream ended cleanly before it. */
  async readFrame (maxBytes: number): Promise<Uint8Array>
  async readFrame (maxBytes: number, allowEnd: true): Promise<Uint8Array | undefined>
  async readFrame (maxBytes: number, allowEnd = false): Promise<Uint8Array | undefined> {
    if (allowEnd && !(await this.fill(4, true))) return undefined
    await this.fill(4)
    const length = this.buffered.getUint32(0)
    if (length > maxBytes) throw new ProtocolError(`frame of ${length} bytes exceeds the ${maxBytes}-byte limit`)
    await this.fill(4 + length)
    const bytes = this.buffered.subarray(4, 4 + length)
    this.buffered.consume(4 + length)
    return bytes
  }

  /**
   * Exactly `length` more bytes. Given `into` (of that length), they are copied straight from
   * the stream's frames into it, so a large body costs no buffer of its own.
   */
  async readBody (length: number, into?: Uint8Array): Promise<Uint8Array> {
    const body = into?.length === length ? into : Buffer.allocUnsafe(length)
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

  private async fill (bytes: number, allowEmptyEnd = false): Promise<boolean> {
    while (this.buffered.length < bytes) {
      const next = await this.iterator.next()
      if (next.done === true) {
        if (allowEmptyEnd && this.buffered.length === 0) return false
        throw new ProtocolError('stream ended early')
      }
      this.buffered.append(next.value)
    }
    return true
  }
}
