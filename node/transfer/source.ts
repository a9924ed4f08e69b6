import type { TransportName } from '../p2p/records.js'

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
  /** Returns exactly `length` bytes of chunk `index` (starting at byte `offset` of the file). */
  fetchChunk: (index: number, offset: number, length: number, signal: AbortSignal) => Promise<Uint8Array>
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

export class SourceError extends Error {
  constructor (message: string, readonly fatal = false) {
    super(message)
    this.name = 'SourceError'
  }
}
