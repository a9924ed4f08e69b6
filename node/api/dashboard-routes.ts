import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { Readable } from 'node:stream'
import type { Multiaddr } from '@multiformats/multiaddr'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ChiralNode } from '../daemon/chiral-node.js'
import { ChiralError, DiskFullError, InvalidInputError } from '../util/errors.js'
import { parseWei } from '../util/units.js'
import { ErrorBody, SeedFile } from './schemas.js'

const errors = { 400: Type.Ref(ErrorBody), 401: Type.Ref(ErrorBody), 404: Type.Ref(ErrorBody) }
const UPLOAD_DIRNAME = 'uploads'

const UploadQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255, description: 'file name to keep (no directories)' }),
  pricePerMiB: Type.Optional(Type.String({ pattern: '^[0-9]{1,78}$', description: 'wei per MiB; 0 = free' }))
}, { additionalProperties: false })

type Reachability = 'public' | 'local-network' | 'this-machine'

const Network = Type.Object({
  peerId: Type.String(),
  listen: Type.Array(Type.String()),
  addresses: Type.Array(Type.Object({ address: Type.String(), scope: Type.String({ enum: ['public', 'local-network', 'this-machine'] }) })),
  reachability: Type.String({ enum: ['public', 'local-network', 'this-machine'], description: 'widest scope of the announced addresses' }),
  connections: Type.Integer(),
  dht: Type.Object({ mode: Type.String({ enum: ['client', 'server'] }), routingTablePeers: Type.Integer() }),
  http: Type.Array(Type.String())
})

export interface DashboardRouteOptions {
  /** Seeds an uploaded file the way POST /api/files seeds a path (with "add" progress events). */
  add: (path: string, pricePerMiB: string | undefined) => Promise<unknown>
}

/**
 * Routes the browser dashboard needs beyond the CLI's: a same-origin way to the chain's
 * JSON-RPC (the RPC server answers only its configured browser origins), file upload, and
 * the node's network view.
 */
export function registerDashboardRoutes (app: FastifyInstance, node: ChiralNode, prefix: string, options: DashboardRouteOptions): void {
  app.post(`${prefix}/rpc`, {
    schema: { summary: 'Forward a JSON-RPC request (or batch) to the node\'s own chain endpoint', body: Type.Union([Type.Object({}), Type.Array(Type.Object({}))]) }
  }, async (request, reply) => {
    const rpcUrl = node.chainService.rpcUrls?.url
    if (rpcUrl == null) throw new ChiralError('RPC_UNAVAILABLE', 'the chain JSON-RPC endpoint is not running', 503)
    const upstream = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request.body) })
    return await reply.code(upstream.status).type('application/json').send(await upstream.text())
  })

  app.register(async scope => {
    // The body is the file itself, streamed to disk, so it is not bound by the JSON body limit.
    scope.addContentTypeParser('application/octet-stream', (_request, payload, done) => { done(null, payload) })
    scope.post<{ Querystring: { name: string, pricePerMiB?: string } }>(`${prefix}/files/upload`, {
      schema: {
        summary: 'Upload a file into <home>/uploads and seed it (body: the file, application/octet-stream)',
        querystring: UploadQuery,
        response: { 201: SeedFile, ...errors }
      }
    }, async (request, reply) => {
      const { name, pricePerMiB } = request.query
      if (pricePerMiB != null) parseWei(pricePerMiB)
      if (!(request.body instanceof Object) || !('pipe' in request.body)) throw new InvalidInputError('send the file as the body with Content-Type: application/octet-stream')
      const path = await receiveUpload(join(node.home, UPLOAD_DIRNAME), name, request.body as Readable)
      return await reply.code(201).send(await options.add(path, pricePerMiB))
    })
  })

  app.get(`${prefix}/network`, { schema: { summary: 'Listen and announced addresses, their reach, DHT state', response: { 200: Network, ...errors } } }, async () => {
    const addresses = node.host.getMultiaddrs().map(address => ({ address: address.toString(), scope: scopeOf(address) }))
    const dht = node.host.services.dht
    return {
      peerId: node.host.peerId.toString(),
      listen: node.config.listen,
      addresses,
      reachability: widest(addresses.map(entry => entry.scope)),
      connections: node.host.getConnections().length,
      dht: { mode: dht.getMode(), routingTablePeers: routingTableSize(dht) },
      http: node.httpServer.endpoints()
    }
  })
}

/** Writes to a temporary name first, so a cut-off upload never becomes a seeded file. */
async function receiveUpload (directory: string, requestedName: string, body: Readable): Promise<string> {
  const name = basename(requestedName).replace(/^\.+/, '')
  if (name === '') throw new InvalidInputError(`not a file name: ${requestedName}`)
  await mkdir(directory, { recursive: true })
  const path = await freePath(directory, name)
  const partial = `${path}.uploading`
  try {
    await pipeline(body, createWriteStream(partial, { flags: 'wx' }))
    await rename(partial, path)
  } catch (err) {
    await rm(partial, { force: true })
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new DiskFullError(partial, 'no space left on device')
    throw err
  }
  return path
}

/** `name`, or `name (1)`, `name (2)`... if a file of that name was uploaded before. */
async function freePath (directory: string, name: string): Promise<string> {
  const dot = name.lastIndexOf('.')
  const [stem, extension] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, '']
  for (let attempt = 0; ; attempt++) {
    const path = join(directory, attempt === 0 ? name : `${stem} (${attempt})${extension}`)
    const taken = await stat(path).then(() => true, () => false) || await stat(`${path}.uploading`).then(() => true, () => false)
    if (!taken) return path
  }
}

function scopeOf (address: Multiaddr): Reachability {
  const { host, family } = address.toOptions()
  if (family === 4) {
    const [a = 0, b = 0] = host.split('.').map(Number)
    if (a === 127) return 'this-machine'
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)) return 'local-network'
    return 'public'
  }
  const lower = host.toLowerCase()
  if (lower === '::1') return 'this-machine'
  if (lower.startsWith('fe80') || lower.startsWith('fc') || lower.startsWith('fd')) return 'local-network'
  return 'public'
}

function widest (scopes: Reachability[]): Reachability {
  if (scopes.includes('public')) return 'public'
  if (scopes.includes('local-network')) return 'local-network'
  return 'this-machine'
}

function routingTableSize (dht: object): number {
  // Only the concrete single-DHT class exposes its routing table; the interface does not.
  const table = (dht as { routingTable?: { size?: number } }).routingTable
  return typeof table?.size === 'number' ? table.size : 0
}
