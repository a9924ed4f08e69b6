/** A transport's name as file records list it (`native`, `http`, ...): an open set, see records.ts. */
export type TransportName = string

/**
 * One way of getting bytes of one file from one seeder. The scheduler sees only this, so a new
 * transport is a new ChunkSource and nothing else changes; sources know nothing of payments.
 */
export interface ChunkSource {
  /** Stable per seeder and transport, e.g. `12D3KooW.../http`. */
  readonly id: string
  /** The seeder this source belongs to: a bad chunk from any of its sources drops all of them. */
  readonly peerId: string
  readonly transport: TransportName
  fetchManifest: (maxBytes: number, signal: AbortSignal) => Promise<Uint8Array>
  /**
   * Returns exactly `length` bytes of chunk `index` (starting at byte `offset` of the file).
   * `into` is a buffer of `length` bytes the source should fill and return, so chunk memory is
   * reused; a source that cannot receive in place returns its own. Once the promise settles the
   * source never touches `into` again.
   */
  fetchChunk: (index: number, offset: number, length: number, signal: AbortSignal, into?: Uint8Array) => Promise<Uint8Array>
  /** Releases connections kept for later requests. */
  close?: () => void
}

/** The serving side of a transport: it serves whatever the content store says is servable. */
export interface TransportServer {
  readonly name: TransportName
  start: () => Promise<void>
  stop: () => Promise<void>
  /** Where peers reach this server, as written into file records. */
  endpoints: () => string[]
}

/** A served chunk or range, reported so the node can count bytes per file and per peer. */
export interface ServedBytes {
  cid: string
  bytes: number
  transport: TransportName
  /** Peer id when the transport authenticates peers, else the remote address. */
  remote: string
}

/** A request for bytes of a file, as a transport sees it just before serving them. */
export interface ServeRequest {
  cid: string
  bytes: number
  transport: TransportName
  /** The libp2p peer, when the transport authenticates peers (native). */
  peerId?: string
  /** A credential the client presented (HTTP `Authorization: Bearer`), issued outside the transport. */
  credential?: string
}

export type ServeDecision = { allowed: true } | { allowed: false, reason: string }

/**
 * Asked before any file bytes are served. Transports only ask; what decides (prices, escrows,
 * receipts) lives in the payment layer, so transports never depend on payments.
 */
export interface ServeGate {
  admit: (request: ServeRequest) => Promise<ServeDecision>
}

export const OPEN_GATE: ServeGate = { admit: async () => ({ allowed: true }) }

export class SourceError extends Error {
  constructor (message: string, readonly fatal = false) {
    super(message)
    this.name = 'SourceError'
  }
}
