import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type RawData, type WebSocket } from 'ws'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import type { RpcBackend } from './backend.js'
import { errorResponse, handleBody } from './dispatch.js'
import { InternalError, InvalidRequestError } from './errors.js'
import type { RpcContext } from './method.js'
import { SubscriptionHub, type Subscriber } from './subscriptions.js'

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
/** A body this far over the limit is not even drained: the connection is cut. */
const DRAIN_LIMIT_FACTOR = 4
/** A WebSocket client that lets this much go unread is too slow to keep: notifications would pile up. */
const MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024

const packageVersion = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

export interface RpcServerOptions {
  backend: RpcBackend
  /** 127.0.0.1 unless the operator chooses to expose the RPC. */
  host: string
  /** 0 picks a free port. */
  port: number
  log: Logger
  /** Largest HTTP body or WebSocket message. */
  maxBodyBytes?: number
  /** Browser origins allowed to call; requests without an Origin header (non-browsers) always are. */
  allowedOrigins?: string[]
}

export interface RpcServer {
  start: () => Promise<{ url: string, wsUrl: string }>
  stop: () => Promise<void>
}

/**
 * Ethereum JSON-RPC 2.0 over HTTP POST and WebSocket on one port. Only public chain methods
 * are served (no keys, no node control), and browsers only from the configured origins, since
 * any web page can otherwise reach a server on the user's loopback.
 */
export function createRpcServer (options: RpcServerOptions): RpcServer {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const allowedOrigins = new Set(options.allowedOrigins ?? [])
  const subscriptions = new SubscriptionHub(options.backend, options.log)
  const context: RpcContext = {
    backend: options.backend,
    log: options.log,
    clientVersion: `Chiral/v${packageVersion}/${process.platform}-${process.arch}/node${process.versions.node}`,
    subscriptions
  }
  const originAllowed = (origin: string | undefined): boolean => origin == null || allowedOrigins.has(origin)
  const http: Server = createServer((req, res) => {
    answerHttp(req, res, context, originAllowed, maxBodyBytes).catch((err: unknown) => {
      // Only a broken connection or an unserialisable result ends up here.
      options.log.debug({ err: errorMessage(err) }, 'RPC HTTP request failed')
      if (res.headersSent) res.destroy()
      else sendJson(res, 500, errorResponse(null, new InternalError()))
    })
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes })
  http.on('upgrade', (req, socket, head) => {
    if (!originAllowed(req.headers.origin)) return refuseUpgrade(socket)
    wss.handleUpgrade(req, socket, head, ws => { serveWebSocket(ws, context) })
  })

  return {
    async start () {
      subscriptions.start()
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject)
        http.listen(options.port, options.host, () => { http.off('error', reject); resolve() })
      })
      const { port } = http.address() as AddressInfo
      const host = options.host.includes(':') ? `[${options.host}]` : options.host
      options.log.info({ host: options.host, port }, 'JSON-RPC listening')
      return { url: `http://${host}:${port}`, wsUrl: `ws://${host}:${port}` }
    },
    async stop () {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>(resolve => { wss.close(() => { resolve() }) })
      await new Promise<void>(resolve => {
        http.close(() => { resolve() })
        http.closeAllConnections()
      })
      await subscriptions.stop()
    }
  }
}

async function answerHttp (req: IncomingMessage, res: ServerResponse, context: RpcContext, originAllowed: (origin: string | undefined) => boolean, maxBodyBytes: number): Promise<void> {
  const origin = req.headers.origin
  if (!originAllowed(origin)) return sendJson(res, 403, errorResponse(null, new InvalidRequestError(`origin ${origin ?? ''} is not allowed`)))
  if (origin != null) res.setHeader('Access-Control-Allow-Origin', origin).setHeader('Vary', 'Origin')
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type', 'Access-Control-Max-Age': '600' }).end()
    return
  }
  if (req.method !== 'POST') return sendJson(res, 405, errorResponse(null, new InvalidRequestError('JSON-RPC requests must be POSTed')), { Allow: 'POST, OPTIONS' })
  // Requiring JSON also makes browsers ask (preflight) before any cross-origin POST reaches us.
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return sendJson(res, 415, errorResponse(null, new InvalidRequestError('content type must be application/json')))
  }
  const body = await readBody(req, maxBodyBytes)
  if (body == null) {
    return sendJson(res, 413, errorResponse(null, new InvalidRequestError(`request body too large: at most ${maxBodyBytes} bytes`)), { Connection: 'close' })
  }
  const response = await handleBody(context, body)
  if (response == null) res.writeHead(204).end()
  else sendJson(res, 200, response)
}

/**
 * The body as text, or undefined if it is over the limit. An oversized body is drained (up to
 * a few times the limit) rather than cut off, so the client reads the 413 instead of a reset.
 */
async function readBody (req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0)
  const chunks: Buffer[] = []
  let received = 0
  let tooLarge = declared > maxBytes
  for await (const chunk of req as AsyncIterable<Buffer>) {
    received += chunk.length
    if (received > maxBytes) tooLarge = true
    if (received > maxBytes * DRAIN_LIMIT_FACTOR) {
      req.socket.destroy()
      return undefined
    }
    if (!tooLarge) chunks.push(chunk)
  }
  return tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')
}

function sendJson (res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(payload)
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body)
}

function refuseUpgrade (socket: Duplex): void {
  socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
}

function serveWebSocket (ws: WebSocket, context: RpcContext): void {
  const subscriber: Subscriber = {
    send (message) {
      if (ws.readyState !== ws.OPEN) return
      if (ws.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
        ws.close(1008, 'client too slow to read notifications')
        return
      }
      ws.send(message)
    }
  }
  const connection: RpcContext = { ...context, subscriber }
  ws.on('message', (message: RawData) => {
    void handleBody(connection, rawText(message)).then(response => {
      if (response != null) subscriber.send(JSON.stringify(response))
    }, (err: unknown) => { context.log.warn({ err: errorMessage(err) }, 'RPC WebSocket message failed') })
  })
  ws.on('close', () => { context.subscriptions.dropAll(subscriber) })
  ws.on('error', err => { context.log.debug({ err: err.message }, 'RPC WebSocket error') })
}

function rawText (message: RawData): string {
  if (Array.isArray(message)) return Buffer.concat(message).toString('utf8')
  return Buffer.isBuffer(message) ? message.toString('utf8') : Buffer.from(message).toString('utf8')
}
