// Shapes of the node's local API (node/api/openapi.json), as the dashboard reads them.

export interface Status {
  peerId: string
  addresses: string[]
  urls: { api: string, dashboard: string, events: string, http: string[], rpc: string, rpcWs: string }
  version: string
  uptimeSeconds: number
  connectedPeers: number
  seeding: number
  activeDownloads: number
  limits: { maxUploadRate: number, maxDownloadRate: number }
  chain: { chainId: string, head: { number: string, hash: string }, syncing: boolean, mining: boolean, hashrate: number }
  wallet: string | null
  totals: { uploaded: number, downloaded: number }
}

export interface SeedFile {
  cid: string
  path: string
  name: string
  size: number
  pricePerMiB: string
  state: 'seeding' | 'stopped' | 'changed'
  addedAt: number
  bytesServed: number
  links: { http: string[], magnet?: string[], ed2k?: string[] }
}

export interface SourceStats {
  id: string
  peerId: string
  transport: string
  bytes: number
  chunks: number
  inflight: number
  dropped?: string
}

export type DownloadState = 'discovering' | 'downloading' | 'verifying' | 'completed' | 'failed' | 'cancelled'

export interface Download {
  cid: string
  outputPath?: string
  name?: string
  size?: number
  state: DownloadState
  bytesDone: number
  error?: { code: string, message: string }
  startedAt: number
  finishedAt?: number
  speed?: number
  etaSeconds?: number | null
  seeders?: number
  sources?: SourceStats[]
}

export interface Quote {
  cid: string
  name: string
  size: number
  seeders: Array<{ peerId: string, pricePerMiB: string, wallet: string, transports: string[] }>
  totalCostWei: string
}

/** pendingWei: not yet claimed; confirmingWei: claimed, its transaction not yet final; redeemedWei: final. */
export interface EarningsTotals { pendingWei: string, confirmingWei: string, redeemedWei: string, bytes: string }

export interface Earnings extends Omit<EarningsTotals, 'bytes'> {
  files: Array<EarningsTotals & { cid: string, name: string }>
  peers: Array<EarningsTotals & { peerId: string, wallet: string }>
  claims: Array<{
    txHash: string
    amountWei: string
    at: number
    escrows: number
    /** Absent on claims from before statuses (final). */
    status?: 'confirming' | 'final' | 'dropped'
    /** Blocks deep on the node's chain (its block and the ones on top), while not dropped. */
    confirmations?: number
    /** When a reorganisation last took the claim off the chain. */
    droppedAt?: number
  }>
}

export interface ChainInfo {
  chainId: string
  network: string
  currency: { name: string, symbol: string, decimals: 18 }
  head: { number: string, hash: string, difficulty: string, timestamp: number }
  syncing: false | { startingBlock: string, currentBlock: string, highestBlock: string }
  rpc: { url: string, wsUrl: string } | null
  pendingTransactions: number
  blockRewardWei: string
}

export interface Wallet {
  address: string | null
  unlocked: boolean
  balance: string
  balanceChi: string
}

export interface Transfer {
  hash: string
  blockNumber: string
  from: string
  to: string | null
  value: string
  direction: 'in' | 'out' | 'self'
  timestamp: number
}

export interface Mining {
  mining: boolean
  threads: number
  hashrate: number
  coinbase: string
  blocksMined: number
}

export type Reach = 'public' | 'local-network' | 'this-machine'

export interface NetworkView {
  peerId: string
  listen: string[]
  addresses: Array<{ address: string, scope: Reach }>
  reachability: Reach
  connections: number
  dht: { mode: 'client' | 'server', routingTablePeers: number }
  http: string[]
}

export interface Peer {
  peerId: string
  addresses: string[]
  connected: boolean
  bytesDownloaded: number
  bytesUploaded: number
  corruptChunks: number
  failures: number
}

export interface AddProgress {
  path: string
  bytes: number
  total: number
}

/** GET /api/history: what the daemon sampled before this page opened, oldest first. */
export interface History {
  intervalMs: number
  capacity: number
  samples: Array<{ at: number, upload: number, download: number, hashrate: number }>
}
