import { timingSafeEqual } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import { multiaddr } from '@multiformats/multiaddr'
import { Type } from '@sinclair/typebox'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { MAX_API_BODY_BYTES } from '../config/constants.js'
import { parseContentId } from '../content/cid.js'
import type { SeedEntry } from '../content/store.js'
import type { ChiralNode } from '../daemon/chiral-node.js'
import { fileUrl } from '../protocols/http/paths.js'
import { ChiralError } from '../util/errors.js'
import { parseWei } from '../util/units.js'
import { registerChainRoutes } from './chain-routes.js'
import { registerPaymentRoutes } from './payment-routes.js'
import { registerDashboardRoutes } from './dashboard-routes.js'
import { registerHistoryRoutes } from './history-routes.js'
import {
  AddFileBody, CidParams, ConnectPeerBody, Download, ErrorBody, Peer, RateLimits, RateLimitsPatch, SeedFile, StartDownloadBody, Status
} from './schemas.js'
import { registerWebUi } from './web-ui.js'

export const API_PREFIX = '/api'
const PUBLIC_PATHS = new Set([`${API_PREFIX}/openapi.json`])
const packageVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

type ApiEvent = { type: 'download', data: unknown } | { type: 'add', data: { path: string, bytes: number, total: number } }

/**
 * The local control API: 127.0.0.1 by default, every route but the OpenAPI document behind the
 * node's token, JSON errors with stable codes, and live events over Server-Sent Events.
 */
export async function createApiServer (node: ChiralNode): Promise<FastifyInstance> {
  // Reject rather than silently strip unknown fields or coerce types: bad input gets a 400.
  const app = Fastify({ bodyLimit: MAX_API_BODY_BYTES, logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } })
  const events = new EventEmitter<{ event: [ApiEvent] }>()
  events.setMaxListeners(0)
  node.downloads.on('progress', progress => { events.emit('event', { type: 'download', data: progress }) })

  await app.register(swagger, {
    openapi: {
      info: { title: 'Chiral node API', version: packageVersion, description: 'Local control API of a Chiral Network node.' },
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer' } } },
      security: [{ token: [] }]
    }
  })
  app.addSchema(ErrorBody)

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] as string
    if (PUBLIC_PATHS.has(path) || isWebUiRequest(request, path)) return
    if (!isAuthorized(request, node.apiToken)) {
      await reply.code(401).send({ error: 'UNAUTHORIZED', message: 'missing or wrong API token (Authorization: Bearer <token from the data directory>)' })
    }
  })

  app.setErrorHandler(async (err: Error & { statusCode?: number, code?: string, validation?: unknown }, _request, reply) => {
    if (err instanceof ChiralError) return await reply.code(err.httpStatus).send({ error: err.code, message: err.message })
    if (err.validation != null) return await reply.code(400).send({ error: 'INVALID_INPUT', message: err.message })
    const status = err.statusCode ?? 500
    if (status < 500) return await reply.code(status).send({ error: err.code ?? 'BAD_REQUEST', message: err.message })
    node.log.error({ err }, 'api request failed')
    return await reply.code(500).send({ error: 'INTERNAL', message: err.message })
  })
  app.setNotFoundHandler(async (request, reply) => {
    await reply.code(404).send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` })
  })

  const errors = { 400: Type.Ref(ErrorBody), 401: Type.Ref(ErrorBody), 404: Type.Ref(ErrorBody) }
  const seedFileView = (entry: SeedEntry): unknown => ({
    ...entry,
    links: { http: node.httpServer.endpoints().map(endpoint => fileUrl(endpoint, entry.cid)) }
  })

  app.get(`${API_PREFIX}/openapi.json`, { schema: { hide: true } }, async () => app.swagger())

  app.get(`${API_PREFIX}/status`, { schema: { summary: 'Node identity, addresses, URLs and totals', response: { 200: Status, ...errors } } }, async () => {
    const files = await node.store.list()
    const downloads = await node.downloads.list()
    const apiUrl = apiBaseUrl(app)
    return {
      peerId: node.host.peerId.toString(),
      addresses: node.host.getMultiaddrs().map(address => address.toString()),
      urls: {
        api: apiUrl,
        dashboard: `${apiUrl}/`,
        events: `${apiUrl}${API_PREFIX}/events`,
        openapi: `${apiUrl}${API_PREFIX}/openapi.json`,
        http: node.httpServer.endpoints(),
        rpc: node.chainService.rpcUrls?.url ?? '',
        rpcWs: node.chainService.rpcUrls?.wsUrl ?? ''
      },
      version: packageVersion,
      uptimeSeconds: Math.floor((Date.now() - node.startedAt) / 1000),
      connectedPeers: node.host.getPeers().length,
      seeding: files.filter(file => file.state === 'seeding').length,
      activeDownloads: downloads.filter(download => ['discovering', 'downloading', 'verifying'].includes(download.state)).length,
      limits: { maxUploadRate: node.uploadLimiter.rate, maxDownloadRate: node.downloadLimiter.rate },
      chain: {
        chainId: node.chainService.chain.chainId.toString(),
        head: node.chainService.headSummary(),
        syncing: node.chainService.sync.syncStatus !== false,
        mining: node.chainService.miner.mining,
        hashrate: Math.round(node.chainService.miner.hashrate)
      },
      wallet: await node.wallet.address().catch(() => null),
      memory: memoryView(),
      totals: { uploaded: node.totals.uploaded, downloaded: node.peerStats.list().reduce((sum, peer) => sum + peer.bytesDownloaded, 0) }
    }
  })

  app.get(`${API_PREFIX}/peers`, { schema: { summary: 'Known peers with transfer statistics', response: { 200: Type.Array(Peer), ...errors } } }, async () => {
    const connected = new Set(node.host.getPeers().map(peer => peer.toString()))
    const ids = new Set([...connected, ...node.peerStats.list().map(stats => stats.peer).filter(id => id.startsWith('12D3') || id.startsWith('Qm'))])
    return [...ids].map(peerId => {
      const stats = node.peerStats.get(peerId)
      const addresses = node.host.getConnections().filter(c => c.remotePeer.toString() === peerId).map(c => c.remoteAddr.toString())
      return {
        peerId,
        addresses,
        connected: connected.has(peerId),
        bytesDownloaded: stats?.bytesDownloaded ?? 0,
        bytesUploaded: stats?.bytesUploaded ?? 0,
        corruptChunks: stats?.corruptChunks ?? 0,
        failures: stats?.failures ?? 0
      }
    })
  })

  app.post<{ Body: { address: string } }>(`${API_PREFIX}/peers`, {
    schema: { summary: 'Connect to a peer by multiaddr (with /p2p/<id>)', body: ConnectPeerBody, response: { 200: Type.Object({ peerId: Type.String() }), ...errors } }
  }, async request => {
    let address
    try {
      address = multiaddr(request.body.address)
    } catch {
      throw new ChiralError('INVALID_INPUT', `not a multiaddr: ${request.body.address}`)
    }
    const connection = await node.host.dial(address, { signal: AbortSignal.timeout(10_000) }).catch((err: Error) => {
      throw new ChiralError('DIAL_FAILED', `could not connect to ${request.body.address}: ${err.message}`, 502)
    })
    return { peerId: connection.remotePeer.toString() }
  })

  app.get(`${API_PREFIX}/files`, { schema: { summary: 'Files this node seeds', response: { 200: Type.Array(SeedFile), ...errors } } }, async () => {
    return (await node.store.list()).map(seedFileView)
  })

  const addFile = async (path: string, pricePerMiB: string | undefined): Promise<unknown> => {
    const entry = await node.add(path, pricePerMiB == null ? undefined : parseWei(pricePerMiB), (bytes, total) => {
      events.emit('event', { type: 'add', data: { path, bytes, total } })
    })
    return seedFileView(entry)
  }

  app.post<{ Body: { path: string, pricePerMiB?: string } }>(`${API_PREFIX}/files`, {
    schema: { summary: 'Seed a file from where it lies (progress as "add" events)', body: AddFileBody, response: { 201: SeedFile, ...errors } }
  }, async (request, reply) => {
    return await reply.code(201).send(await addFile(request.body.path, request.body.pricePerMiB))
  })

  app.get<{ Params: { cid: string } }>(`${API_PREFIX}/files/:cid`, { schema: { params: CidParams, response: { 200: SeedFile, ...errors } } }, async request => {
    const { text } = parseContentId(request.params.cid)
    const entry = await node.store.get(text)
    if (entry == null) throw new ChiralError('NOT_SEEDING', `not seeding ${text}`, 404)
    return seedFileView(entry)
  })

  app.post<{ Params: { cid: string } }>(`${API_PREFIX}/files/:cid/stop`, { schema: { summary: 'Stop seeding', params: CidParams, response: { 200: SeedFile, ...errors } } }, async request => {
    return seedFileView(await node.stopSeeding(parseContentId(request.params.cid).text))
  })

  app.post<{ Params: { cid: string } }>(`${API_PREFIX}/files/:cid/resume`, { schema: { summary: 'Seed a stopped file again', params: CidParams, response: { 200: SeedFile, ...errors } } }, async request => {
    return seedFileView(await node.resumeSeeding(parseContentId(request.params.cid).text))
  })

  app.get(`${API_PREFIX}/downloads`, { schema: { summary: 'Downloads, running and finished', response: { 200: Type.Array(Download), ...errors } } }, async () => {
    return await node.downloads.list()
  })

  app.post<{ Body: { cid: string, output?: string, maxPricePerMiB?: string, maxCostWei?: string, overwrite?: boolean } }>(`${API_PREFIX}/downloads`, {
    schema: { summary: 'Start (or rejoin) a download; progress as "download" events', body: StartDownloadBody, response: { 202: Download, ...errors } }
  }, async (request, reply) => {
    const { cid, output, maxPricePerMiB, maxCostWei, overwrite } = request.body
    if (maxPricePerMiB != null) parseWei(maxPricePerMiB, 'maxPricePerMiB')
    if (maxCostWei != null) parseWei(maxCostWei, 'maxCostWei')
    const entry = await node.downloads.start(cid, output, { maxPricePerMiB, maxCostWei }, { overwrite })
    return await reply.code(202).send(await node.downloads.get(entry.cid))
  })

  app.get<{ Params: { cid: string } }>(`${API_PREFIX}/downloads/:cid`, { schema: { params: CidParams, response: { 200: Download, ...errors } } }, async request => {
    return await node.downloads.get(request.params.cid)
  })

  app.delete<{ Params: { cid: string } }>(`${API_PREFIX}/downloads/:cid`, { schema: { summary: 'Cancel a download and delete its partial file', params: CidParams, response: { 200: Download, ...errors } } }, async request => {
    await node.downloads.cancel(request.params.cid)
    return await node.downloads.get(request.params.cid)
  })

  app.get(`${API_PREFIX}/settings/limits`, { schema: { summary: 'Upload and download rate limits', response: { 200: RateLimits, ...errors } } }, async () => {
    return { maxUploadRate: node.uploadLimiter.rate, maxDownloadRate: node.downloadLimiter.rate }
  })

  app.patch<{ Body: { maxUploadRate?: number, maxDownloadRate?: number } }>(`${API_PREFIX}/settings/limits`, {
    schema: { summary: 'Change rate limits while transfers run', body: RateLimitsPatch, response: { 200: RateLimits, ...errors } }
  }, async request => {
    node.setRateLimits(request.body)
    return { maxUploadRate: node.uploadLimiter.rate, maxDownloadRate: node.downloadLimiter.rate }
  })

  registerChainRoutes(app, node, API_PREFIX)
  registerPaymentRoutes(app, node, API_PREFIX)
  registerDashboardRoutes(app, node, API_PREFIX, { add: addFile })
  registerHistoryRoutes(app, node, API_PREFIX)
  registerWebUi(app)

  app.get(`${API_PREFIX}/events`, { schema: { summary: 'Server-Sent Events: "download" progress and "add" hashing progress' } }, async (request, reply) => {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' })
    res.write(': connected\n\n')
    const send = (event: ApiEvent): void => { res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`) }
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000)
    events.on('event', send)
    request.raw.on('close', () => {
      clearInterval(heartbeat)
      events.off('event', send)
    })
  })

  return app
}

function memoryView (): { rss: number, heapUsed: number, external: number, arrayBuffers: number } {
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss, heapUsed, external, arrayBuffers }
}

/** The dashboard's static files are public; anything under /api is not, whatever route matched. */
function isWebUiRequest (request: FastifyRequest, path: string): boolean {
  return request.routeOptions.config.publicWebUi === true && path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)
}

function isAuthorized (request: FastifyRequest, token: string): boolean {
  const header = request.headers.authorization
  // EventSource cannot send headers, so the event stream (and only it) takes ?token=.
  const fromQuery = request.url.split('?')[0] === `${API_PREFIX}/events` ? new URL(request.url, 'http://localhost').searchParams.get('token') : null
  const offered = header?.startsWith('Bearer ') === true ? header.slice(7).trim() : fromQuery
  if (offered == null) return false
  const a = Buffer.from(offered)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

function apiBaseUrl (app: FastifyInstance): string {
  const address = app.server.address()
  if (address == null || typeof address === 'string') return ''
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}

