import { STATS_FLUSH_INTERVAL_MS } from '../config/constants.js'
import type { Database, Table } from '../db/database.js'

export interface PeerStats {
  peer: string
  bytesDownloaded: number
  bytesUploaded: number
  corruptChunks: number
  failures: number
  lastSeen: number
}

/** What each peer sent us and got from us, kept across restarts (batched every few seconds). */
export class PeerStatsStore {
  private readonly table: Table<PeerStats>
  private readonly cache = new Map<string, PeerStats>()
  private readonly dirty = new Set<string>()
  private flushTimer?: NodeJS.Timeout

  constructor (db: Database) {
    this.table = db.table<PeerStats>('peer-stats')
  }

  async load (): Promise<void> {
    for (const stats of await this.table.values()) this.cache.set(stats.peer, stats)
  }

  record (peer: string, change: Partial<Omit<PeerStats, 'peer' | 'lastSeen'>>): void {
    const stats = this.cache.get(peer) ?? { peer, bytesDownloaded: 0, bytesUploaded: 0, corruptChunks: 0, failures: 0, lastSeen: 0 }
    stats.bytesDownloaded += change.bytesDownloaded ?? 0
    stats.bytesUploaded += change.bytesUploaded ?? 0
    stats.corruptChunks += change.corruptChunks ?? 0
    stats.failures += change.failures ?? 0
    stats.lastSeen = Date.now()
    this.cache.set(peer, stats)
    this.dirty.add(peer)
    this.flushTimer ??= setTimeout(() => { void this.flush() }, STATS_FLUSH_INTERVAL_MS)
  }

  async flush (): Promise<void> {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    const peers = [...this.dirty]
    this.dirty.clear()
    for (const peer of peers) {
      const stats = this.cache.get(peer)
      if (stats != null) await this.table.put(peer, { ...stats })
    }
  }

  get (peer: string): PeerStats | undefined {
    return this.cache.get(peer)
  }

  list (): PeerStats[] {
    return [...this.cache.values()]
  }
}
