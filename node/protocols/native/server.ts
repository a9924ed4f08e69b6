import type { Stream } from '@libp2p/interface'
import { MAX_TRANSFER_REQUEST_BYTES, TRANSFER_PROTOCOL } from '../../config/constants.js'
import { encodeManifest } from '../../content/manifest.js'
import type { ContentStore } from '../../content/store.js'
import type { ChiralLibp2p } from '../../p2p/host.js'
import type { RateLimiter } from '../../transfer/rate-limiter.js'
import type { ServedBytes, TransportServer } from '../../transfer/source.js'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import { FrameReader, frameJson } from '../../p2p/framing.js'
import { parseRequest, type ResponseHeader } from './wire.js'

/** Slices of this size pass the upload limiter one at a time, so limits hold within a chunk. */
const SEND_SLICE_BYTES = 64 * 1024
const MAX_STREAMS_PER_CONNECTION = 256

export interface NativeServerOptions {
  host: ChiralLibp2p
  store: ContentStore
  uploadLimiter: RateLimiter
  onServed: (served: ServedBytes) => void
  log: Logger
}

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
    let header: ResponseHeader
    let body: Uint8Array | undefined
    let cid: string | undefined
    try {
      const request = parseRequest(await new FrameReader(stream.source).readJson(MAX_TRANSFER_REQUEST_BYTES))
      cid = request.cid
      if (request.op === 'manifest') {
        const servable = await this.options.store.servable(request.cid)
        body = servable == null ? undefined : encodeManifest(servable.manifest)
      } else {
        body = await this.options.store.readChunk(request.cid, request.index)
      }
      header = body == null ? { status: 'not-found', message: `not seeding ${request.cid}` } : { status: 'ok', length: body.length }
    } catch (err) {
      header = { status: 'bad-request', message: errorMessage(err) }
    }
    const { uploadLimiter, onServed } = this.options
    await stream.sink((async function * () {
      yield frameJson(header)
      if (body == null) return
      for (let offset = 0; offset < body.length; offset += SEND_SLICE_BYTES) {
        const slice = body.subarray(offset, offset + SEND_SLICE_BYTES)
        await uploadLimiter.take(slice.length)
        yield slice
      }
    })())
    if (body != null && cid != null) onServed({ cid, bytes: body.length, transport: 'native', remote: remotePeer })
  }
}
