import { MAX_SEEDERS_PER_DOWNLOAD } from '../config/constants.js'
import type { Manifest } from '../content/manifest.js'
import type { FileRecord } from '../p2p/records.js'

/** The seeders that sign one manifest (root, size and chunk size) for a content id. */
export interface ManifestGroup {
  readonly key: string
  readonly root: string
  readonly size: number
  readonly chunkSize: number
  readonly seeders: Map<string, FileRecord>
  /** Fetched from one of the seeders, checked against the root and the content id's digest. */
  manifest?: Manifest
  /** The manifest itself is wrong (its bytes do not end at the content id): never tried again. */
  rejected?: string
  /** Tried, and ended without completing; tried again only once a seeder not yet used joins. */
  tried: boolean
}

/**
 * Seeders of one content id grouped by the manifest they sign. Seeders that disagree are not
 * outvoted: a group is tried, its chunks are checked against its own manifest, and a seeder
 * that sends one chunk that fails that check is blamed and never used again in the download.
 * A group with no seeder left ends, and the next is tried; so a false manifest costs its seeders,
 * never an honest seeder of another manifest, however many seeders sign it.
 */
export class ManifestCandidates {
  private readonly groups = new Map<string, ManifestGroup>()
  /** Seeders that failed a check under their own manifest (or served a manifest their record does not sign). */
  private readonly blamed = new Map<string, string>()

  get seederCount (): number {
    let count = 0
    for (const group of this.groups.values()) count += group.seeders.size
    return count
  }

  /**
   * Adds seeders; returns those not known before. A group that gains a seeder it has not used
   * yet is tried again; with `retry` (a fresh lookup), so is any group with a seeder not blamed.
   */
  offer (records: FileRecord[], options: { retry?: boolean } = {}): FileRecord[] {
    const fresh: FileRecord[] = []
    for (const record of records) {
      if (this.blamed.has(record.peerId)) continue
      const key = `${record.manifestRoot}:${record.size}:${record.chunkSize}`
      let group = this.groups.get(key)
      if (group == null) {
        group = { key, root: record.manifestRoot, size: record.size, chunkSize: record.chunkSize, seeders: new Map(), tried: false }
        this.groups.set(key, group)
      }
      const known = group.seeders.has(record.peerId)
      // The newest record of a seeder (addresses, transports and price may change).
      group.seeders.set(record.peerId, record)
      if (!known) fresh.push(record)
      if (!known || options.retry === true) group.tried = false
    }
    return fresh
  }

  /** Seeders of the group that may still be asked, at most MAX_SEEDERS_PER_DOWNLOAD. */
  usable (group: ManifestGroup): FileRecord[] {
    return [...group.seeders.values()].filter(record => !this.blamed.has(record.peerId)).slice(0, MAX_SEEDERS_PER_DOWNLOAD)
  }

  /**
   * The next group to try: the one named by `preferRoot` (whose manifest earlier chunks
   * verified under), then the one with the most usable seeders. The order only decides what is
   * tried first: what is trusted is decided by the chunks that check.
   */
  next (preferRoot?: string): ManifestGroup | undefined {
    const open = [...this.groups.values()].filter(group => this.isOpen(group))
    open.sort((a, b) => Number(b.root === preferRoot) - Number(a.root === preferRoot) || this.usable(b).length - this.usable(a).length)
    return open[0]
  }

  /** Whether another group than `current` is waiting to be tried. */
  hasOther (current: ManifestGroup): boolean {
    return [...this.groups.values()].some(group => group !== current && this.isOpen(group))
  }

  blame (peerId: string, reason: string): void {
    if (!this.blamed.has(peerId)) this.blamed.set(peerId, reason)
  }

  isBlamed (peerId: string): boolean {
    return this.blamed.has(peerId)
  }

  /** Why seeders were given up, for the error a failed download reports. */
  reasons (): string[] {
    const reasons = [...this.blamed].map(([peerId, reason]) => `${peerId}: ${reason}`)
    for (const group of this.groups.values()) {
      if (group.rejected != null) reasons.push(`manifest ${group.root.slice(0, 12)}: ${group.rejected}`)
    }
    return reasons
  }

  private isOpen (group: ManifestGroup): boolean {
    return !group.tried && group.rejected == null && this.usable(group).length > 0
  }
}
