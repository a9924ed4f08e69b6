import type { Connection, Stream } from '@libp2p/interface'
import {
  MAX_TRANSFER_REQUEST_BYTES, NATIVE_MAX_QUEUED_REQUESTS, NATIVE_MAX_STREAMS_PER_CONNECTION, SEND_STALL_TIMEOUT_MS,
  TRANSFER_PROTOCOL
} from '../../config/constants.js'
import { encodeManifest } from '../../content/manifest.js'
import type { ContentStore } from '../../content/store.js'
import { FrameReader, frameJson } from '../../p2p/framing.js'
import type { ChiralLibp2p } from '../../p2p/host.js'
import type { RateLimiter } from '../../transfer/rate-limiter.js'
import type { ServeGate, ServedBytes, TransportServer } from '../../transfer/source.js'
import { ProtocolError, errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import { SERVE_SLOTS, type ServeSlots } from '../serve-slots.js'
import { SendQueue } from './send-queue.js'
import { parseRequest, type ResponseHeader } from './wire.js'

/** Slices of this size pass the upload limiter one at a time, so limits hold within a chunk. */
const SEND_SLICE_BYTES = 64 * 1024

export interface NativeServerOptions {
  host: ChiralLibp2p
  store: ContentStore
  uploadLimiter: RateLimiter
  onServed: (served: ServedBytes) => void
  /** Decides whether a peer may have a file's bytes (payment); manifests are always served. */
  gate: ServeGate
  log: Logger
  /** Slots for bodies being served (default: the node's, shared with the other transports). */
  slots?: ServeSlots
}

interface Response { header: ResponseHeader, body?: Uint8Array, cid?: string }

/** A request read off a stream, or the reason the stream's bytes were no request. */
type Incoming = { request: unknown } | { malformed: string }

/**
 * Serves the native transfer protocol. A stream carries any number of requests, one at a time,
 * so a downloader keeps a few streams open per seeder instead of opening one per chunk.
 *
 * Memory stays bounded whatever a peer does: a request is answered only once the sink pulls
 * (the peer's flow-control window has room), its chunk is read only once it holds one of the
 * node's serving slots, and that slot is given back only once the chunk's bytes have left the
 * process, not merely been queued for the peer's connection. A stream may queue only a few
 * requests behind the one being answered, a connection may carry only so many streams, and a
 * stream (or connection) that takes nothing for SEND_STALL_TIMEOUT_MS is reset (or closed),
 * which frees all it held.
 */
export class NativeTransferServer implements TransportServer {
  readonly name = 'native' as const
  private readonly slots: ServeSlots

  constructor (private readonly options: NativeServerOptions) {
    this.slots = options.slots ?? SERVE_SLOTS
  }

  async start (): Promise<void> {
    await this.options.host.handle(TRANSFER_PROTOCOL, ({ stream, connection }) => {
      this.serve(stream, connection).catch(err => {
        this.options.log.debug({ err: errorMessage(err) }, 'native transfer stream failed')
        stream.abort(err instanceof Error ? err : new Error(String(err)))
      })
    }, { maxInboundStreams: NATIVE_MAX_STREAMS_PER_CONNECTION, maxOutboundStreams: NATIVE_MAX_STREAMS_PER_CONNECTION })
  }

  async stop (): Promise<void> {
    await this.options.host.unhandle(TRANSFER_PROTOCOL)
  }

  endpoints (): string[] {
    return this.options.host.getMultiaddrs().map(address => address.toString())
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const requests = new IncomingRequests(stream)
    await stream.sink(this.responses(stream, requests, SendQueue.of(connection), connection.remotePeer.toString()))
  }

  /**
   * The stream's outgoing bytes, produced only as the sink pulls them: one response at a time,
   * its chunk read once a slot is held, in slices, each handed over when the sink asks for it.
   */
  private async * responses (stream: Stream, requests: IncomingRequests, queue: SendQueue, remotePeer: string): AsyncGenerator<Uint8Array> {
    // While the sink holds a slice we gave it, it is waiting for the peer's flow-control window.
    let waitingSince: number | undefined
    const stall = setInterval(() => {
      if (waitingSince != null && Date.now() - waitingSince >= SEND_STALL_TIMEOUT_MS) {
        stream.abort(new Error(`the peer took no bytes for ${SEND_STALL_TIMEOUT_MS / 1000} s`))
      }
    }, SEND_STALL_TIMEOUT_MS / 4)
    stall.unref()
    let release: (() => void) | undefined
    try {
      for (;;) {
        const incoming = await requests.next()
        if (incoming == null) return
        if ('malformed' in incoming) {
          yield frameJson({ status: 'bad-request', message: incoming.malformed })
          return
        }
        // A peer asking again has read what it asked for before: that slot is free by now.
        queue.releaseSent()
        release = await this.slots.acquire(remotePeer, requests.gone)
        // Never admitted (and so never paid for) once the peer can no longer be sent anything.
        if (requests.gone.aborted) return
        const { header, body, cid } = await this.respond(incoming.request, remotePeer)
        const frame = frameJson(header)
        waitingSince = Date.now()
        yield frame
        waitingSince = undefined
        queue.sent(frame.length)
        if (body != null && cid != null) {
          for (let offset = 0; offset < body.length; offset += SEND_SLICE_BYTES) {
            const slice = body.subarray(offset, offset + SEND_SLICE_BYTES)
            await this.options.uploadLimiter.take(slice.length, requests.gone)
            waitingSince = Date.now()
            yield slice
            waitingSince = undefined
            queue.sent(slice.length)
          }
          this.options.onServed({ cid, bytes: body.length, transport: 'native', remote: remotePeer })
        }
        queue.afterSent(release)
        release = undefined
      }
    } finally {
      clearInterval(stall)
      // Part of a body may still be queued for the connection: the slot covers it until it left.
      if (release != null) queue.afterSent(release)
      requests.stop()
    }
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

/**
 * Reads a stream's requests as they come, so a peer that resets the stream or goes away is
 * noticed at once (`gone`), even while its last request waits for a slot. Our downloader sends a
 * request only after it has read the previous response; a peer that queues more than
 * NATIVE_MAX_QUEUED_REQUESTS behind the one being answered has its stream reset.
 */
class IncomingRequests {
  private readonly controller = new AbortController()
  private readonly queued: Incoming[] = []
  private ended = false
  private wake?: () => void

  constructor (private readonly stream: Stream) {
    void this.read()
  }

  /** Aborted once nothing can be sent on the stream any more. */
  get gone (): AbortSignal {
    return this.controller.signal
  }

  /** The next request, or undefined once the peer has sent its last one or the stream is gone. */
  async next (): Promise<Incoming | undefined> {
    while (this.queued.length === 0 && !this.ended && !this.gone.aborted) {
      await new Promise<void>(resolve => { this.wake = resolve })
    }
    return this.gone.aborted ? undefined : this.queued.shift()
  }

  stop (): void {
    this.finish(this.stream.writeStatus !== 'writing')
  }

  private async read (): Promise<void> {
    const reader = new FrameReader(this.stream.source)
    try {
      for (;;) {
        const request = await reader.readJson(MAX_TRANSFER_REQUEST_BYTES, true)
        if (request === undefined) break
        if (this.ended) return
        if (this.queued.length >= NATIVE_MAX_QUEUED_REQUESTS) {
          this.stream.abort(new ProtocolError(`more than ${NATIVE_MAX_QUEUED_REQUESTS} requests queued on one stream`))
          this.finish(true)
          return
        }
        this.queued.push({ request })
        this.wake?.()
      }
    } catch (err) {
      // Bytes that are no request are answered once the requests before them are; anything
      // else (a reset, the connection closing) means the stream is gone.
      if (err instanceof ProtocolError && this.stream.writeStatus === 'writing') this.queued.push({ malformed: errorMessage(err) })
      else this.finish(true)
    }
    // The peer closed its side once done asking: the answers still go out. A source that ended
    // because the stream closed (the connection went) leaves nothing to answer.
    this.finish(this.stream.writeStatus !== 'writing')
  }

  private finish (gone: boolean): void {
    this.ended = true
    if (gone && !this.controller.signal.aborted) this.controller.abort(new Error('the stream is closed'))
    this.wake?.()
  }
}
