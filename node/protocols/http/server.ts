import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import parseRange from 'range-parser'
import { encodeManifest } from '../../content/manifest.js'
import type { ContentStore } from '../../content/store.js'
import type { RateLimiter } from '../../transfer/rate-limiter.js'
import type { ServeGate, ServedBytes, TransportServer } from '../../transfer/source.js'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
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
}

/** Under an upload limit, bytes pass the limiter in slices of this size. */
const LIMITED_SLICE_BYTES = 64 * 1024

const FILE_ROUTE = new RegExp(`^${HTTP_FILES_PATH}/([A-Za-z0-9]{1,128})(/manifest)?$`)

/**
 * Every node serves its seeded files over plain HTTP with Range support, so any HTTP client
 * (curl, aria2, a browser) can fetch a free file, and other nodes can use HTTP as a transport.
 */
export class HttpTransferServer implements TransportServer {
  readonly name = 'http' as const
  private server?: Server

  constructor (private readonly options: HttpServerOptions) {}

  async start (): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(err => {
        this.options.log.debug({ err: errorMessage(err) }, 'http transfer failed')
        if (!res.headersSent) sendJson(res, 500, { error: 'INTERNAL', message: 'internal error' })
        else res.destroy()
      })
    })
    server.keepAliveTimeout = 30_000
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
      const manifest = encodeManifest(servable.manifest)
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': manifest.length })
      res.end(req.method === 'HEAD' ? undefined : manifest)
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
    const decision = await this.options.gate.admit({ cid, bytes: end - start + 1, transport: 'http', credential: bearerToken(req) })
    if (!decision.allowed) return sendJson(res, 402, { error: 'PAYMENT_REQUIRED', message: decision.reason })
    let sent = 0
    const limiter = this.options.uploadLimiter
    try {
      const served = await this.options.store.sendRange(cid, start, end, async piece => {
        if (!res.headersSent) res.writeHead(status, headers)
        // Under a limit, the same slice size as the native transport, so both share it fairly.
        const sliceBytes = limiter.rate === 0 ? piece.length : LIMITED_SLICE_BYTES
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
  }
}

/** Resolves once the socket has taken `piece`, so the buffer under it may be reused. */
async function write (res: ServerResponse, piece: Buffer): Promise<void> {
  if (res.destroyed) throw new Error('the client went away')
  await new Promise<void>((resolve, reject) => {
    const onClose = (): void => { reject(new Error('the client went away')) }
    res.once('close', onClose)
    res.write(piece, err => {
      res.off('close', onClose)
      if (err == null) resolve()
      else reject(err)
    })
  })
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
