import type { PeerId, Stream } from '@libp2p/interface'
import { pushable, type Pushable } from 'it-pushable'
import { MAX_TRANSFER_HEADER_BYTES, TRANSFER_PROTOCOL } from '../../config/constants.js'
import { FrameReader, frameJson } from '../../p2p/framing.js'
import type { ChiralLibp2p } from '../../p2p/host.js'
import { SourceError, type ChunkSource } from '../../transfer/source.js'
import type { ResponseHeader, TransferRequest } from './wire.js'

/** Idle streams kept per seeder for the next requests. */
const MAX_IDLE_STREAMS = 16

interface OpenStream { stream: Stream, reader: FrameReader, requests: Pushable<Uint8Array> }

/**
 * Fetches from a seeder over the node's own libp2p protocol. Streams are reused for request
 * after request, so each chunk costs one request frame rather than a stream set-up.
 */
export class NativeSource implements ChunkSource {
  readonly transport = 'native' as const
  readonly id: string
  readonly peerId: string
  private readonly idle: OpenStream[] = []

  constructor (private readonly host: ChiralLibp2p, private readonly peer: PeerId, private readonly cid: string) {
    this.peerId = peer.toString()
    this.id = `${this.peerId}/native`
  }

  async fetchManifest (maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    return await this.request({ op: 'manifest', cid: this.cid }, maxBytes, signal)
  }

  async fetchChunk (index: number, _offset: number, length: number, signal: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    // Read straight into the caller's buffer: a MiB of our own per chunk would be garbage the
    // moment it was copied there.
    const body = await this.request({ op: 'chunk', cid: this.cid, index }, length, signal, into)
    if (body.length !== length) throw new SourceError(`chunk ${index} has ${body.length} bytes, expected ${length}`, true)
    return body
  }

  close (): void {
    for (const open of this.idle.splice(0)) {
      open.requests.end()
      void open.stream.close().catch(() => {})
    }
  }

  private async request (request: TransferRequest, maxBody: number, signal: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    const open = this.idle.pop() ?? await this.openStream(signal)
    const onAbort = (): void => { open.stream.abort(new Error('request aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    let reusable = false
    try {
      open.requests.push(frameJson(request))
      const header = await open.reader.readJson(MAX_TRANSFER_HEADER_BYTES) as ResponseHeader
      if (header?.status !== 'ok') {
        reusable = header?.status === 'not-found'
        throw new SourceError(`seeder answered ${String(header?.status)}: ${String((header as { message?: unknown })?.message ?? '')}`, header?.status === 'not-found')
      }
      if (!Number.isSafeInteger(header.length) || header.length < 0 || header.length > maxBody) {
        throw new SourceError(`seeder announced ${String(header.length)} bytes, limit ${maxBody}`, true)
      }
      const body = await open.reader.readBody(header.length, into)
      reusable = true
      return body
    } finally {
      signal.removeEventListener('abort', onAbort)
      if (reusable && !signal.aborted && this.idle.length < MAX_IDLE_STREAMS) this.idle.push(open)
      else if (!reusable || signal.aborted) open.stream.abort(new Error('stream discarded'))
      else {
        open.requests.end()
        void open.stream.close().catch(() => {})
      }
    }
  }

  private async openStream (signal: AbortSignal): Promise<OpenStream> {
    // Selected optimistically: the protocol goes out with the first request, a round trip sooner.
    const stream = await this.host.dialProtocol(this.peer, TRANSFER_PROTOCOL, { signal, negotiateFully: false })
    const requests = pushable<Uint8Array>()
    stream.sink(requests).catch(() => {})
    return { stream, reader: new FrameReader(stream.source), requests }
  }
}
