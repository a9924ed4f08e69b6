import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import parseRange from 'range-parser'
import { HTTP_HEADERS_TIMEOUT_MS, HTTP_MAX_CONNECTIONS, HTTP_MAX_CONNECTIONS_PER_IP, SEND_STALL_TIMEOUT_MS } from '../../config/constants.js'
import { encodeManifest, maxManifestBytes } from '../../content/manifest.js'
import type { ContentStore } from '../../content/store.js'
import type { RateLimiter } from '../../transfer/rate-limiter.js'
import type { ServeGate, ServedBytes, TransportServer } from '../../transfer/source.js'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import { SERVE_SLOTS, type ServeSlots } from '../serve-slots.js'
import { HTTP_FILES_PATH } from './paths.js'

export interface HttpServerOptions {
  host: string
  port: number
  store: ContentStore
  uploadLimiter: RateLimiter
  onServed: (served: ServedBytes) => void
  /** Decides whether a client may have a file's bytes (payment); manifests and HEAD are always served. */
  gate: ServeGate
  /** Host names or IPs peers can reach this node at, for the endpoints in file records. */
  advertisedHosts: () => string[]
  log: Logger
  /** Slots for bodies being served (default: the node's, shared with the other transports). */
  slots?: ServeSlots
}

/** Under an upload limit, bytes pass the limiter in slices of this size. */
const LIMITED_SLICE_BYTES = 64 * 1024
/** Otherwise in slices of this size: a client must take one every SEND_STALL_TIMEOUT_MS. */
const UNLIMITED_SLICE_BYTES = 256 * 1024
/** How often Node looks for clients over the header timeout. */
const CONNECTIONS_CHECK_INTERVAL_MS = 5_000

const FILE_ROUTE = new RegExp(`^${HTTP_FILES_PATH}/([A-Za-z0-9]{1,128})(/manifest)?$`)

/**
 * Every node serves its seeded files over plain HTTP with Range support, so any HTTP client
 * (curl, aria2, a browser) can fetch a free file, and other nodes can use HTTP as a transport.
 *
 * Memory stays bounded whatever clients do: at most HTTP_MAX_CONNECTIONS connections, and
 * HTTP_MAX_CONNECTIONS_PER_IP from one address (an IPv6 /64), the rest closed at once; a file
 * range is read only once its response holds one of the node's serving slots, is written a slice
 * at a time as the socket takes it, and a client that takes no slice for SEND_STALL_TIMEOUT_MS
 * (or sends no request head for HTTP_HEADERS_TIMEOUT_MS) is disconnected.
 */
export class HttpTransferServer implements TransportServer {
  readonly name = 'http' as const
  private server?: Server
  private readonly slots: ServeSlots
  private readonly connectionsByAddress = new Map<string, Set<Socket>>()
  /** Connections with a request in progress. */
  private readonly busy = new WeakSet<Socket>()

  constructor (private readonly options: HttpServerOptions) {
    this.slots = options.slots ?? SERVE_SLOTS
  }

  async start (): Promise<void> {
    const server = createServer({
      headersTimeout: HTTP_HEADERS_TIMEOUT_MS,
      requestTimeout: HTTP_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS
    }, (req, res) => {
      const socket = req.socket
      this.busy.add(socket)
      res.once('close', () => { this.busy.delete(socket) })
      this.handle(req, res).catch(err => {
        this.options.log.debug({ err: errorMessage(err) }, 'http transfer failed')
        if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'internal error' })
        else res.destroy()
      })
    })
    server.keepAliveTimeout = 30_000
    server.maxConnections = HTTP_MAX_CONNECTIONS
    server.on('connection', socket => { this.admitConnection(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.options.port, this.options.host, () => { server.off('error', reject); resolve() })
    })
    this.server = server
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => { resolve() }))
  }

  get port (): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.options.port
  }

  endpoints (): string[] {
    return this.options.advertisedHosts().map(host => `http://${host.includes(':') ? `[${host}]` : host}:${this.port}`)
  }

  /**
   * Takes a connection unless its address has HTTP_MAX_CONNECTIONS_PER_IP open already, all of
   * them with a request in progress: an idle one (kept alive, or not asked anything yet) of that
   * address is closed for it instead, so a client that keeps many connections alive is not
   * refused a new one.
   */
  private admitConnection (socket: Socket): void {
    const address = addressKey(socket.remoteAddress)
    let sockets = this.connectionsByAddress.get(address)
    if (sockets == null) this.connectionsByAddress.set(address, sockets = new Set())
    if (sockets.size >= HTTP_MAX_CONNECTIONS_PER_IP) {
      const idle = [...sockets].find(open => !this.busy.has(open))
      if (idle == null) {
        socket.destroy()
        return
      }
      sockets.delete(idle)
      idle.destroy()
    }
    const open = sockets
    open.add(socket)
    socket.once('close', () => {
      open.delete(socket)
      if (open.size === 0 && this.connectionsByAddress.get(address) === open) this.connectionsByAddress.delete(address)
    })
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const match = FILE_ROUTE.exec(new URL(req.url ?? '/', 'http://localhost').pathname)
    if (match == null) return sendJson(res, 404, { error: 'NOT_FOUND', message: `files are served under ${HTTP_FILES_PATH}/<cid>` })
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      return sendJson(res, 405, { error: 'METHOD_NOT_ALLOWED', message: 'use GET or HEAD' })
    }
    const cid = match[1] as string
    const servable = await this.options.store.servable(cid)
    if (servable == null) return sendJson(res, 404, { error: 'NOT_SEEDING', message: `not seeding ${cid}` })
    if (match[2] != null) {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': maxManifestBytes(servable.manifest.size, servable.manifest.chunkSize) })
        res.end()
        return
      }
      // A large file's manifest is MiBs: it is built, like a range's buffer, only under a slot.
      await this.whileServing(req, res, async () => {
        const manifest = encodeManifest(servable.manifest)
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': manifest.length })
        for (let offset = 0; offset < manifest.length; offset += UNLIMITED_SLICE_BYTES) {
          await write(res, manifest.subarray(offset, offset + UNLIMITED_SLICE_BYTES))
        }
        res.end()
      })
      return
    }
    const { size, name } = servable.entry
    let start = 0
    let end = size - 1
    let status = 200
    const headers: Record<string, string | number> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      ETag: `"${cid}"`
    }
    const rangeHeader = req.headers.range
    // RFC 9110 14.2: a Range in a unit other than bytes (e.g. "items=0-5") is ignored: 200, whole file.
    if (rangeHeader != null && /^\s*bytes\s*=/i.test(rangeHeader)) {
      const ranges = parseRange(size, rangeHeader, { combine: true })
      if (ranges === -1) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ error: 'RANGE_NOT_SATISFIABLE', message: `file has ${size} bytes` }))
        return
      }
      // Several disjoint ranges would need multipart/byteranges; serving the whole file is allowed.
      if (ranges !== -2 && ranges.length === 1) {
        const range = ranges[0] as { start: number, end: number }
        start = range.start
        end = range.end
        status = 206
        headers['Content-Range'] = `bytes ${start}-${end}/${size}`
      }
    }
    headers['Content-Length'] = Math.max(0, end - start + 1)
    if (req.method === 'HEAD' || size === 0) {
      res.writeHead(status, headers)
      res.end()
      return
    }
    await this.whileServing(req, res, async () => {
      const decision = await this.options.gate.admit({ cid, bytes: end - start + 1, transport: 'http', credential: bearerToken(req) })
      if (!decision.allowed) return sendJson(res, 402, { error: 'PAYMENT_REQUIRED', message: decision.reason })
      let sent = 0
      const limiter = this.options.uploadLimiter
      try {
        const served = await this.options.store.sendRange(cid, start, end, async piece => {
          if (!res.headersSent) res.writeHead(status, headers)
          // Under a limit, the same slice size as the native transport, so both share it fairly.
          const sliceBytes = limiter.rate === 0 ? UNLIMITED_SLICE_BYTES : LIMITED_SLICE_BYTES
          for (let offset = 0; offset < piece.length; offset += sliceBytes) {
            const slice = piece.subarray(offset, offset + sliceBytes)
            await limiter.take(slice.length)
            await write(res, slice)
            sent += slice.length
          }
        })
        if (!served) return sendJson(res, 404, { error: 'NOT_SEEDING', message: `not seeding ${cid}` })
        res.end()
      } finally {
        if (sent > 0) this.options.onServed({ cid, bytes: sent, transport: 'http', remote: req.socket.remoteAddress ?? 'unknown' })
      }
    })
  }

  /**
   * Runs `send` holding a serving slot of the client's address, taken before anything is read
   * or admitted; a client that goes away while waiting for one is never served.
   */
  private async whileServing (req: IncomingMessage, res: ServerResponse, send: () => Promise<void>): Promise<void> {
    const closed = new AbortController()
    const onClose = (): void => { closed.abort(new Error('the client went away')) }
    res.once('close', onClose)
    let release: (() => void) | undefined
    try {
      release = await this.slots.acquire(addressKey(req.socket.remoteAddress), closed.signal)
      if (res.destroyed) return
      await send()
    } finally {
      res.off('close', onClose)
      release?.()
    }
  }
}

/**
 * Resolves once the socket has taken `piece`, so the buffer under it may be reused. A client
 * that takes nothing for SEND_STALL_TIMEOUT_MS is disconnected.
 */
async function write (res: ServerResponse, piece: Uint8Array): Promise<void> {
  if (res.destroyed) throw new Error('the client went away')
  await new Promise<void>((resolve, reject) => {
    const stalled = setTimeout(() => { res.destroy(new Error(`the client took no bytes for ${SEND_STALL_TIMEOUT_MS / 1000} s`)) }, SEND_STALL_TIMEOUT_MS)
    const onClose = (): void => {
      clearTimeout(stalled)
      reject(new Error('the client went away'))
    }
    res.once('close', onClose)
    res.write(piece, err => {
      clearTimeout(stalled)
      res.off('close', onClose)
      if (err == null) resolve()
      else reject(err)
    })
  })
}

/**
 * The address a client's connections and slots are counted under: its IPv4 address, or the /64
 * of its IPv6 address (one host commonly holds a whole /64).
 */
export function addressKey (address: string | undefined): string {
  if (address == null) return 'unknown'
  const bare = address.replace(/%.*$/, '')
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  if (mapped != null) return mapped[1] as string
  if (!bare.includes(':')) return bare
  const [head = '', tail] = bare.split('::')
  const groups = (part: string | undefined): string[] => part == null || part === '' ? [] : part.split(':').flatMap(group => group.includes('.') ? ['0', '0'] : [group])
  const before = groups(head)
  const after = groups(tail)
  const all = tail == null ? before : [...before, ...Array<string>(Math.max(0, 8 - before.length - after.length)).fill('0'), ...after]
  return `${all.slice(0, 4).map(group => parseInt(group, 16).toString(16)).join(':')}::/64`
}

function bearerToken (req: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')
  return match?.[1]
}

function sendJson (res: ServerResponse, status: number, body: unknown): void {
  const json = Buffer.from(JSON.stringify(body))
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': json.length })
  res.end(json)
}
