import { EventEmitter } from 'node:events'
import { constants as fsConstants } from 'node:fs'
import { open, stat, type FileHandle } from 'node:fs/promises'
import { basename, resolve } from 'node:path'
import { CHUNK_SIZE, FILE_CHECK_INTERVAL_MS, STATS_FLUSH_INTERVAL_MS } from '../config/constants.js'
import type { Database, Table } from '../db/database.js'
import { Mutex } from '../util/mutex.js'
import { FileChangedError, FileMissingError, NotAFileError, NotSeedingError } from '../util/errors.js'
import { ChunkBufferPool } from './chunk-buffers.js'
import { contentIdFromDigest } from './cid.js'
import { hashFile } from './hash-file.js'
import { chunkCount, chunkLength, decodeManifest, encodeManifest, manifestRoot, type Manifest } from './manifest.js'

export type SeedState = 'seeding' | 'stopped' | 'changed'

/** Read buffers kept for HTTP ranges: as many requests as one downloader keeps in flight. */
const MAX_FREE_RANGE_BUFFERS = 8

/** A file seeded from where it lies, with what identifies its bytes on disk. */
export interface SeedEntry {
  cid: string
  path: string
  name: string
  size: number
  chunkSize: number
  manifestRoot: string
  pricePerMiB: string
  state: SeedState
  addedAt: number
  fileIdentity: FileIdentity
  bytesServed: number
}

interface FileIdentity { size: number, mtimeMs: number, ctimeMs: number, ino: number }

export interface ContentStoreEvents {
  changed: [entry: SeedEntry]
}

/**
 * The files this node seeds. Files are never copied: a seeded file is served from its own path,
 * and any change to it (size, mtime, ctime, inode) takes it out of service before a byte goes out.
 */
export class ContentStore extends EventEmitter<ContentStoreEvents> {
  private readonly seeds: Table<SeedEntry>
  private readonly manifests: Table<Uint8Array>
  private readonly cache = new Map<string, { entry: SeedEntry, manifest: Manifest, checkedAt: number }>()
  private readonly handles = new Map<string, Promise<FileHandle>>()
  private readonly rangeBuffers = new ChunkBufferPool(CHUNK_SIZE, MAX_FREE_RANGE_BUFFERS)
  private readonly unflushedServed = new Map<string, number>()
  private flushTimer?: NodeJS.Timeout
  private readonly flushes = new Mutex()

  constructor (db: Database) {
    super()
    this.seeds = db.table<SeedEntry>('seeds')
    this.manifests = db.table<Uint8Array>('manifests', 'view')
  }

  async add (path: string, pricePerMiB: bigint, onBytes?: (bytes: number, total: number) => void): Promise<SeedEntry> {
    const absolute = resolve(path)
    const before = await openedRegularFile(absolute)
    const digests = await hashFile(absolute, before.size, CHUNK_SIZE, bytes => onBytes?.(bytes, before.size))
    const after = await statRegularFile(absolute)
    if (!sameIdentity(before, after)) throw new FileChangedError(absolute, 'while it was being added')
    const manifest: Manifest = { size: before.size, chunkSize: CHUNK_SIZE, chunkStates: digests.chunkStates }
    return await this.seed(absolute, contentIdFromDigest(digests.digest).text, manifest, pricePerMiB, before)
  }

  /** Seeds a file whose manifest is already verified (a finished download). */
  async seed (path: string, cid: string, manifest: Manifest, pricePerMiB: bigint, identity?: FileIdentity): Promise<SeedEntry> {
    const existing = await this.seeds.get(cid)
    const entry: SeedEntry = {
      cid,
      path,
      name: basename(path),
      size: manifest.size,
      chunkSize: manifest.chunkSize,
      manifestRoot: manifestRoot(manifest),
      pricePerMiB: pricePerMiB.toString(),
      state: 'seeding',
      addedAt: Date.now(),
      fileIdentity: identity ?? await statRegularFile(path),
      bytesServed: existing?.bytesServed ?? 0
    }
    await this.manifests.put(cid, encodeManifest(manifest))
    await this.seeds.put(cid, entry)
    this.cache.delete(cid)
    await this.closeHandle(cid)
    return entry
  }

  async list (): Promise<SeedEntry[]> {
    return (await this.seeds.values()).map(entry => this.withUnflushed(entry))
  }

  async get (cid: string): Promise<SeedEntry | undefined> {
    const entry = await this.seeds.get(cid)
    return entry == null ? undefined : this.withUnflushed(entry)
  }

  async setState (cid: string, state: 'seeding' | 'stopped'): Promise<SeedEntry> {
    const entry = await this.seeds.get(cid)
    if (entry == null) throw new NotSeedingError(cid)
    if (state === 'seeding') {
      const current = await stat(entry.path).catch(() => undefined)
      if (current == null || !sameIdentity(entry.fileIdentity, identityOf(current))) {
        throw new FileChangedError(entry.path, 'or was removed since it was added')
      }
    }
    const updated = { ...entry, state }
    await this.seeds.put(cid, updated)
    this.cache.delete(cid)
    await this.closeHandle(cid)
    return this.withUnflushed(updated)
  }

  async remove (cid: string): Promise<void> {
    await this.closeHandle(cid)
    await this.seeds.delete(cid)
    await this.manifests.delete(cid)
    this.cache.delete(cid)
  }

  /** Counted in memory and written every few seconds: a statistic, not worth a write per chunk. */
  addBytesServed (cid: string, bytes: number): void {
    this.unflushedServed.set(cid, (this.unflushedServed.get(cid) ?? 0) + bytes)
    this.flushTimer ??= setTimeout(() => { void this.flushServed() }, STATS_FLUSH_INTERVAL_MS)
  }

  async close (): Promise<void> {
    await this.flushServed()
    for (const handle of this.handles.values()) await (await handle).close().catch(() => {})
    this.handles.clear()
  }

  private async flushServed (): Promise<void> {
    clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    // One flush at a time: two interleaved read-modify-writes of an entry would lose bytes.
    await this.flushes.run(async () => { await this.writeUnflushedServed() })
  }

  private async writeUnflushedServed (): Promise<void> {
    for (const [cid, bytes] of [...this.unflushedServed]) {
      const entry = await this.seeds.get(cid)
      if (entry != null) {
        entry.bytesServed += bytes
        await this.seeds.put(cid, entry)
        const cached = this.cache.get(cid)
        if (cached != null) cached.entry.bytesServed = entry.bytesServed
      }
      // Subtract only now, so readers never see the bytes in neither place.
      const left = (this.unflushedServed.get(cid) ?? 0) - bytes
      if (left > 0) this.unflushedServed.set(cid, left)
      else this.unflushedServed.delete(cid)
    }
  }

  private withUnflushed (entry: SeedEntry): SeedEntry {
    const pending = this.unflushedServed.get(entry.cid) ?? 0
    return pending === 0 ? entry : { ...entry, bytesServed: entry.bytesServed + pending }
  }

  /** One open handle per seeded file; positional reads on it are safe in parallel. */
  private async handleFor (cid: string, path: string): Promise<FileHandle> {
    let handle = this.handles.get(cid)
    if (handle == null) {
      handle = open(path, 'r')
      this.handles.set(cid, handle)
      handle.catch(() => { this.handles.delete(cid) })
    }
    return await handle
  }

  private async closeHandle (cid: string): Promise<void> {
    const handle = this.handles.get(cid)
    this.handles.delete(cid)
    if (handle != null) await (await handle.catch(() => undefined))?.close().catch(() => {})
  }

  /** The manifest of a file that is being seeded and still unchanged on disk. */
  async servable (cid: string, options: { recheckFile?: boolean } = {}): Promise<{ entry: SeedEntry, manifest: Manifest } | undefined> {
    let cached = this.cache.get(cid)
    if (cached == null) {
      const entry = await this.seeds.get(cid)
      const encoded = await this.manifests.get(cid)
      if (entry == null || encoded == null) return undefined
      cached = { entry, manifest: decodeManifest(encoded), checkedAt: 0 }
      this.cache.set(cid, cached)
    }
    if (cached.entry.state !== 'seeding') return undefined
    if (options.recheckFile === true || Date.now() - cached.checkedAt >= FILE_CHECK_INTERVAL_MS) {
      const current = await stat(cached.entry.path).catch(() => undefined)
      if (current == null || !sameIdentity(cached.entry.fileIdentity, identityOf(current))) {
        await this.markChanged(cached.entry)
        return undefined
      }
      cached.checkedAt = Date.now()
    }
    return cached
  }

  /**
   * Reads chunk `index`. The file's identity is checked on every request, so a changed or
   * removed file is never served; downloaders verify every chunk against the manifest anyway.
   */
  async readChunk (cid: string, index: number): Promise<Uint8Array | undefined> {
    const servable = await this.servable(cid, { recheckFile: true })
    if (servable == null || index < 0 || index >= chunkCount(servable.manifest.size, servable.manifest.chunkSize)) return undefined
    const length = chunkLength(servable.manifest, index)
    const buffer = Buffer.allocUnsafe(length)
    const handle = await this.handleFor(cid, servable.entry.path)
    const { bytesRead } = await handle.read(buffer, 0, length, index * servable.manifest.chunkSize)
    if (bytesRead !== length) {
      await this.markChanged(servable.entry)
      return undefined
    }
    return buffer
  }

  /**
   * Hands [start, end] (inclusive) of a seeded file to `send` in pieces of at most a chunk, read
   * into a reused buffer through the file's shared handle: `send` must be done with a piece when
   * its promise resolves. Resolves false, without calling `send`, if the file is not being
   * served. Ranges are not re-hashed like native chunks, so the file's identity is checked on
   * every request rather than once a second.
   */
  async sendRange (cid: string, start: number, end: number, send: (piece: Buffer) => Promise<void>): Promise<boolean> {
    const servable = await this.servable(cid, { recheckFile: true })
    if (servable == null) return false
    const handle = await this.handleFor(cid, servable.entry.path)
    const buffer = this.rangeBuffers.acquire()
    try {
      for (let position = start; position <= end;) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, end + 1 - position), position)
        if (bytesRead === 0) throw new FileChangedError(servable.entry.path, `while being served (it ends before byte ${position})`)
        await send(buffer.subarray(0, bytesRead))
        position += bytesRead
      }
    } finally {
      this.rangeBuffers.release(buffer)
    }
    return true
  }

  private async markChanged (entry: SeedEntry): Promise<void> {
    await this.closeHandle(entry.cid)
    const updated: SeedEntry = { ...entry, state: 'changed' }
    await this.seeds.put(entry.cid, updated)
    this.cache.delete(entry.cid)
    this.emit('changed', updated)
  }
}

async function statRegularFile (path: string): Promise<FileIdentity> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new FileMissingError(path)
    throw err
  })
  if (!info.isFile()) throw new NotAFileError(path)
  return identityOf(info)
}

/**
 * The identity of the regular file at `path`, taken from the opened handle (fstat), so that a
 * FIFO, device or directory swapped in after a stat is refused too. Opened non-blocking, so a
 * FIFO cannot hang the open. A pseudo-file (/proc, /sys) says it is regular with a size that is
 * not its length (/proc/self/environ: 0 bytes, yet it reads the daemon's environment); a read
 * past the stated size shows it, and it is refused as well.
 */
async function openedRegularFile (path: string): Promise<FileIdentity> {
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new FileMissingError(path)
    if (err.code === 'ENXIO' || err.code === 'EISDIR') throw new NotAFileError(path)
    throw err
  })
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw new NotAFileError(path)
    const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, info.size)
    if (bytesRead > 0) throw new NotAFileError(path)
    return identityOf(info)
  } finally {
    await handle.close()
  }
}

function identityOf (info: { size: number, mtimeMs: number, ctimeMs: number, ino: number }): FileIdentity {
  return { size: info.size, mtimeMs: info.mtimeMs, ctimeMs: info.ctimeMs, ino: info.ino }
}

function sameIdentity (a: FileIdentity, b: FileIdentity): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino
}
