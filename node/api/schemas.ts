import { Type } from '@sinclair/typebox'
import { MAX_BYTE_RATE } from '../config/constants.js'

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String() }, { $id: 'Error' })

export const CidParams = Type.Object({ cid: Type.String({ minLength: 1, maxLength: 128 }) })

export const AddFileBody = Type.Object({
  path: Type.String({ minLength: 1, maxLength: 4096, description: 'path of a regular file on the node' }),
  pricePerMiB: Type.Optional(Type.String({ pattern: '^[0-9]{1,78}$', description: 'wei per MiB, at most 2^256 - 1; 0 = free' }))
}, { additionalProperties: false })

export const StartDownloadBody = Type.Object({
  cid: Type.String({ minLength: 1, maxLength: 128 }),
  output: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'file path or existing directory' })),
  maxPricePerMiB: Type.Optional(Type.String({ pattern: '^[0-9]{1,78}$', description: 'use no seeder asking more wei per MiB' })),
  maxCostWei: Type.Optional(Type.String({ pattern: '^[0-9]{1,78}$', description: 'fail before any byte moves if the download may cost more' })),
  overwrite: Type.Optional(Type.Boolean({ description: 'replace an existing file at output (else 400 if output is an existing file; into a directory, a taken name gets " (1)")' }))
}, { additionalProperties: false })

export const ConnectPeerBody = Type.Object({
  address: Type.String({ minLength: 1, maxLength: 512, description: 'multiaddr with /p2p/<peer id>' })
}, { additionalProperties: false })

export const RateLimits = Type.Object({
  maxUploadRate: Type.Integer({ minimum: 0, maximum: MAX_BYTE_RATE, description: 'bytes per second, 0 = unlimited' }),
  maxDownloadRate: Type.Integer({ minimum: 0, maximum: MAX_BYTE_RATE, description: 'bytes per second, 0 = unlimited' })
}, { additionalProperties: false })

export const RateLimitsPatch = Type.Partial(RateLimits, { additionalProperties: false, minProperties: 1 })

export const SeedFile = Type.Object({
  cid: Type.String(),
  path: Type.String(),
  name: Type.String(),
  size: Type.Integer(),
  chunkSize: Type.Integer(),
  manifestRoot: Type.String(),
  pricePerMiB: Type.String(),
  state: Type.String({ enum: ['seeding', 'stopped', 'changed'] }),
  addedAt: Type.Integer(),
  bytesServed: Type.Integer(),
  links: Type.Object({ http: Type.Array(Type.String()) })
})

export const SourceStats = Type.Object({
  id: Type.String(),
  peerId: Type.String(),
  transport: Type.String(),
  bytes: Type.Integer(),
  chunks: Type.Integer(),
  inflight: Type.Integer(),
  concurrency: Type.Integer(),
  dropped: Type.Optional(Type.String())
})

export const Download = Type.Object({
  cid: Type.String(),
  requestedPath: Type.Optional(Type.String()),
  outputPath: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
  size: Type.Optional(Type.Integer()),
  manifestRoot: Type.Optional(Type.String()),
  state: Type.String({ enum: ['discovering', 'downloading', 'verifying', 'completed', 'failed', 'cancelled'] }),
  bytesDone: Type.Integer(),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
  startedAt: Type.Integer(),
  finishedAt: Type.Optional(Type.Integer()),
  overwrite: Type.Optional(Type.Boolean()),
  speed: Type.Optional(Type.Integer({ description: 'bytes per second over the last few seconds' })),
  etaSeconds: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  seeders: Type.Optional(Type.Integer()),
  sources: Type.Optional(Type.Array(SourceStats))
})

export const Status = Type.Object({
  peerId: Type.String(),
  addresses: Type.Array(Type.String()),
  urls: Type.Object({
    api: Type.String(),
    dashboard: Type.String({ description: 'the web dashboard (pair it with #token=<api token>)' }),
    events: Type.String(),
    openapi: Type.String(),
    http: Type.Array(Type.String()),
    rpc: Type.String(),
    rpcWs: Type.String()
  }),
  version: Type.String(),
  uptimeSeconds: Type.Integer(),
  connectedPeers: Type.Integer(),
  seeding: Type.Integer(),
  activeDownloads: Type.Integer(),
  limits: RateLimits,
  chain: Type.Object({
    chainId: Type.String(),
    head: Type.Object({ number: Type.String(), hash: Type.String() }),
    syncing: Type.Boolean(),
    mining: Type.Boolean(),
    hashrate: Type.Integer()
  }),
  wallet: Type.Union([Type.String(), Type.Null()]),
  memory: Type.Object({ rss: Type.Integer(), heapUsed: Type.Integer(), external: Type.Integer(), arrayBuffers: Type.Integer() }, { description: 'bytes' }),
  totals: Type.Object({ uploaded: Type.Integer(), downloaded: Type.Integer() })
})

export const Peer = Type.Object({
  peerId: Type.String(),
  addresses: Type.Array(Type.String()),
  connected: Type.Boolean(),
  bytesDownloaded: Type.Integer(),
  bytesUploaded: Type.Integer(),
  corruptChunks: Type.Integer(),
  failures: Type.Integer()
})
