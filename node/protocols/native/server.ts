import type { Stream } from '@libp2p/interface'
import { pushable } from 'it-pushable'
import { MAX_TRANSFER_REQUEST_BYTES, TRANSFER_PROTOCOL } from '../../config/constants.js'
import { encodeManifest } from '../../content/manifest.js'
import type { ContentStore } from '../../content/store.js'
import { FrameReader, frameJson } from '../../p2p/framing.js'
import type { ChiralLibp2p } from '../../p2p/host.js'
import type { RateLimiter } from '../../transfer/rate-limiter.js'
import type { ServeGate, ServedBytes, TransportServer } from '../../transfer/source.js'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import { parseRequest, type ResponseHeader } from './wire.js'

/** Slices of this size pass the upload limiter one at a time, so limits hold within a chunk. */
const SEND_SLICE_BYTES = 64 * 1024
const MAX_STREAMS_PER_CONNECTION = 256

export interface NativeServerOptions {
  host: ChiralLibp2p
  store: ContentStore
  uploadLimiter: RateLimiter
  onServed: (served: ServedBytes) => void
  /** Decides whether a peer may have a file's bytes (payment); manifests are always served. */
  gate: ServeGate
  log: Logger
}

interface Response { header: ResponseHeader, body?: Uint8Array, cid?: string }

/**
 * Serves the native transfer protocol. A stream carries any number of requests, one at a time,
 * so a downloader keeps a few streams open per seeder instead of opening one per chunk.
 */
export class NativeTransferServer implements TransportServer {
  readonly name = 'native' as const

  constructor (private readonly options: NativeServerOptions) {}

  async start (): Promise<void> {
    await this.options.host.handle(TRANSFER_PROTOCOL, ({ stream, connection }) => {
      this.serve(stream, connection.remotePeer.toString()).catch(err => {
        this.options.log.debug({ err: errorMessage(err) }, 'native transfer stream failed')
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      })
    }, { maxInboundStreams: MAX_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_STREAMS_PER_CONNECTION })
  }

  async stop (): Promise<void> {
    await this.options.host.unhandle(TRANSFER_PROTOCOL)
  }

  endpoints (): string[] {
    return this.options.host.getMultiaddrs().map(address => address.toString())
  }

  private async serve (stream: Stream, remotePeer: string): Promise<void> {
    const reader = new FrameReader(stream.source)
    const out = pushable<Uint8Array>()
    // Observed at once: a peer that resets the stream makes the sink reject while we still read.
    let sinkError: unknown
    const sending = stream.sink(out).catch(err => { sinkError = err })
    try {
      for (;;) {
        let request: unknown
        try {
          request = await reader.readJson(MAX_TRANSFER_REQUEST_BYTES, true)
        } catch (err) {
          out.push(frameJson({ status: 'bad-request', message: errorMessage(err) }))
          break
        }
        if (request === undefined) break
        const { header, body, cid } = await this.respond(request, remotePeer)
        out.push(frameJson(header))
        if (body == null || cid == null) continue
        for (let offset = 0; offset < body.length; offset += SEND_SLICE_BYTES) {
          const slice = body.subarray(offset, offset + SEND_SLICE_BYTES)
          await this.options.uploadLimiter.take(slice.length)
          out.push(slice)
        }
        this.options.onServed({ cid, bytes: body.length, transport: 'native', remote: remotePeer })
      }
    } finally {
      out.end()
      await sending
    }
    if (sinkError != null) throw sinkError
  }

  private async respond (raw: unknown, peerId: string): Promise<Response> {
    try {
      const request = parseRequest(raw)
      const body = request.op === 'manifest'
        ? await this.options.store.servable(request.cid).then(servable => servable == null ? undefined : encodeManifest(servable.manifest))
        : await this.options.store.readChunk(request.cid, request.index)
      if (body == null) return { header: { status: 'not-found', message: `not seeding ${request.cid}` } }
      if (request.op === 'chunk') {
        const decision = await this.options.gate.admit({ cid: request.cid, bytes: body.length, transport: 'native', peerId })
        if (!decision.allowed) return { header: { status: 'payment-required', message: decision.reason } }
      }
      return { header: { status: 'ok', length: body.length }, body, cid: request.cid }
    } catch (err) {
      return { header: { status: 'bad-request', message: errorMessage(err) } }
    }
  }
}
