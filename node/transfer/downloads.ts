import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, open, rename, rm, stat, statfs, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import {
  CHUNK_SIZE, DISCOVERY_RETRY_DELAY_MS, INITIAL_DISCOVERY_ATTEMPTS, MAX_DISCOVERY_ROUNDS, MAX_SEEDERS_PER_DOWNLOAD, MAX_TOTAL_INFLIGHT_CHUNKS,
  PROGRESS_EVENT_INTERVAL_MS, SPEED_WINDOW_MS
} from '../config/constants.js'
import { ChunkBufferPool } from '../content/chunk-buffers.js'
import { parseContentId } from '../content/cid.js'
import { chunkLength, chunkMatches, decodeManifest, encodeManifest, manifestEndsAt, manifestRoot, maxManifestBytes, type Manifest } from '../content/manifest.js'
import { releaseTransferMemory } from '../daemon/heap.js'
import { native } from '../native/index.js'
import type { ContentStore } from '../content/store.js'
import type { Database, Table } from '../db/database.js'
import type { Discovery } from '../p2p/discovery.js'
import type { FileRecord } from '../p2p/records.js'
import {
  ChiralError, DiskFullError, DownloadFailedError, DownloadNotFoundError, InvalidInputError, NoSeedersError, errorMessage
} from '../util/errors.js'
import type { Logger } from '../util/log.js'
import type { PeerStatsStore } from './peer-stats.js'
import type { RateLimiter } from './rate-limiter.js'
import { ChunkScheduler, type SourceStats } from './scheduler.js'
import { BackgroundFlush } from './background-flush.js'
import { ChunkWriter } from './chunk-writer.js'
import type { ChunkSource } from './source.js'

export type DownloadState = 'discovering' | 'downloading' | 'verifying' | 'completed' | 'failed' | 'cancelled'

export interface DownloadEntry {
  cid: string
  /** Where the user asked for it: a file path, or a directory to put the file in. */
  requestedPath?: string
  outputPath?: string
  name?: string
  size?: number
  manifestRoot?: string
  state: DownloadState
  bytesDone: number
  error?: { code: string, message: string }
  startedAt: number
  finishedAt?: number
  /** What the user accepts to pay, fixed when the download starts. */
  limits?: DownloadLimits
}

export interface DownloadLimits {
  /** Seeders asking more wei per MiB are not used. */
  maxPricePerMiB?: string
  /** The download fails before any byte moves if the quoted cost is higher. */
  maxCostWei?: string
}

export interface DownloadProgress extends DownloadEntry {
  speed: number
  etaSeconds: number | null
  seeders: number
  sources: SourceStats[]
}

export interface DownloadEvents {
  progress: [progress: DownloadProgress]
}

export interface DownloadManagerOptions {
  db: Database
  store: ContentStore
  discovery: Discovery
  downloadLimiter: RateLimiter
  peerStats: PeerStatsStore
  /** Turns a verified record into the sources it advertises. */
  sourcesFor: (record: FileRecord) => ChunkSource[]
  /**
   * Runs once the seeders are known and before any chunk is asked of them; returns the seeders to
   * use (terms may exclude some) or throws to fail the download before a byte moves.
   */
  prepareSeeders?: (entry: DownloadEntry, records: FileRecord[], size: number, first: boolean) => Promise<FileRecord[]>
  /** Every verified chunk with the seeder that delivered it, whatever transport carried it. */
  onChunkVerified?: (entry: DownloadEntry, peerId: string, bytes: number) => void
  /** The transfer is over, finished or not: no more chunks will be verified for this run. */
  onTransferEnded?: (entry: DownloadEntry) => Promise<void>
  /** Called once a finished file is in place, to start seeding it. */
  onCompleted: (entry: DownloadEntry, manifest: Manifest) => Promise<void>
  defaultDirectory: string
  log: Logger
}

const PARTIAL_SUFFIX = '.chiral-part'
/** Below this, a download churns too little memory to be worth a full collection afterwards. */
const RELEASE_MEMORY_MIN_BYTES = 64 * 1024 * 1024

interface ActiveDownload {
  entry: DownloadEntry
  controller: AbortController
  scheduler?: ChunkScheduler
  samples: Array<{ at: number, bytes: number }>
  speed: number
  seeders: number
  done: Promise<void>
}

/**
 * Owns every download: finds seeders, fetches and checks the manifest, runs the scheduler into
 * a partial file, records each verified chunk so a restart resumes without refetching, then
 * hands the file over to be seeded. Chunks are checked on the chain of whole-file SHA-256 states
 * (content/manifest.ts), so once the last one has checked the file is known to match its content id.
 */
export class DownloadManager extends EventEmitter<DownloadEvents> {
  private readonly entries: Table<DownloadEntry>
  private readonly manifests: Table<Uint8Array>
  private readonly chunks: Table<number>
  private readonly active = new Map<string, ActiveDownload>()
  /** Kept across downloads: a download's buffers would otherwise linger until a full collection. */
  private readonly chunkBuffers = new ChunkBufferPool(CHUNK_SIZE, MAX_TOTAL_INFLIGHT_CHUNKS)
  private progressTimer?: NodeJS.Timeout

  constructor (private readonly options: DownloadManagerOptions) {
    super()
    this.entries = options.db.table<DownloadEntry>('downloads')
    this.manifests = options.db.table<Uint8Array>('download-manifests', 'view')
    this.chunks = options.db.table<number>('download-chunks')
  }

  /** Resumes downloads that were running when the node stopped. */
  async resumeAll (): Promise<void> {
    this.progressTimer = setInterval(() => { this.emitAllProgress() }, PROGRESS_EVENT_INTERVAL_MS)
    this.progressTimer.unref()
    for (const entry of await this.entries.values()) {
      if (entry.state === 'discovering' || entry.state === 'downloading' || entry.state === 'verifying') {
        this.options.log.info({ cid: entry.cid }, 'resuming download')
        this.launch(entry)
      }
    }
  }

  async start (cidText: string, requestedPath?: string, limits?: DownloadLimits): Promise<DownloadEntry> {
    const { text: cid } = parseContentId(cidText)
    const running = this.active.get(cid)
    if (running != null) return running.entry
    if (requestedPath != null && requestedPath.trim() === '') throw new InvalidInputError('output path is empty')
    const entry: DownloadEntry = {
      cid,
      requestedPath: requestedPath == null ? undefined : resolve(requestedPath),
      state: 'discovering',
      bytesDone: 0,
      startedAt: Date.now(),
      limits
    }
    await this.entries.put(cid, entry)
    this.launch(entry)
    return entry
  }

  async cancel (cidText: string): Promise<DownloadEntry> {
    const { text: cid } = parseContentId(cidText)
    const entry = this.active.get(cid)?.entry ?? await this.entries.get(cid)
    if (entry == null) throw new DownloadNotFoundError(cid)
    const running = this.active.get(cid)
    if (running != null) {
      running.controller.abort(new ChiralError('CANCELLED', 'download cancelled'))
      await running.done.catch(() => {})
    }
    if (entry.state !== 'completed') {
      entry.state = 'cancelled'
      entry.finishedAt = Date.now()
      if (entry.outputPath != null) await rm(entry.outputPath + PARTIAL_SUFFIX, { force: true })
      await this.chunks.deleteWithPrefix(`${cid}:`)
      await this.entries.put(cid, entry)
    }
    return entry
  }

  async list (): Promise<DownloadProgress[]> {
    const stored = await this.entries.values()
    return stored.map(entry => this.progressOf(this.active.get(entry.cid)?.entry ?? entry))
  }

  async get (cidText: string): Promise<DownloadProgress> {
    const { text: cid } = parseContentId(cidText)
    const entry = this.active.get(cid)?.entry ?? await this.entries.get(cid)
    if (entry == null) throw new DownloadNotFoundError(cid)
    return this.progressOf(entry)
  }

  async stop (): Promise<void> {
    clearInterval(this.progressTimer)
    const running = [...this.active.values()]
    for (const download of running) download.controller.abort(new ChiralError('SHUTDOWN', 'node is stopping'))
    await Promise.all(running.map(async download => { await download.done.catch(() => {}) }))
  }

  private launch (entry: DownloadEntry): void {
    const controller = new AbortController()
    const download: ActiveDownload = { entry, controller, samples: [], speed: 0, seeders: 0, done: Promise.resolve() }
    this.active.set(entry.cid, download)
    download.done = this.run(download).then(
      async () => {
        entry.state = 'completed'
        entry.finishedAt = Date.now()
        delete entry.error
        await this.entries.put(entry.cid, entry)
      },
      async (err: unknown) => {
        if (controller.signal.reason instanceof ChiralError && controller.signal.reason.code === 'SHUTDOWN') return
        if (controller.signal.reason instanceof ChiralError && controller.signal.reason.code === 'CANCELLED') return
        entry.state = 'failed'
        entry.finishedAt = Date.now()
        entry.error = err instanceof ChiralError ? { code: err.code, message: err.message } : { code: 'DOWNLOAD_FAILED', message: errorMessage(err) }
        this.options.log.warn({ cid: entry.cid, err: entry.error.message }, 'download failed')
        await this.entries.put(entry.cid, entry)
      }
    ).finally(() => {
      this.active.delete(entry.cid)
      if (this.active.size === 0 && (entry.size ?? 0) >= RELEASE_MEMORY_MIN_BYTES) releaseTransferMemory(() => this.active.size > 0, () => { this.chunkBuffers.clear() })
      this.emit('progress', this.progressOf(entry))
    })
  }

  private async run (download: ActiveDownload): Promise<void> {
    const { entry, controller } = download
    const { signal } = controller
    let rediscoveries = 0
    const late = new LateSeeders()
    const discover = async (onLateSeeder?: (record: FileRecord) => void): Promise<{ records: FileRecord[], peersAsked: number }> => {
      const { seeders, peersAsked } = await this.options.discovery.findSeeders(entry.cid, signal, { onLateSeeder })
      const matching = entry.manifestRoot == null ? seeders : seeders.filter(record => record.manifestRoot === entry.manifestRoot)
      return { records: matching.slice(0, MAX_SEEDERS_PER_DOWNLOAD), peersAsked }
    }
    // A file added a moment ago may not have reached the DHT yet: look again before giving up.
    let first = await discover(late.offer)
    for (let attempt = 1; first.records.length === 0 && attempt < INITIAL_DISCOVERY_ATTEMPTS; attempt++) {
      await setTimeout(DISCOVERY_RETRY_DELAY_MS, undefined, { signal })
      first = await discover(late.offer)
    }
    if (first.records.length === 0) throw new NoSeedersError(entry.cid, first.peersAsked)
    const records = entry.manifestRoot == null ? largestAgreeingGroup(first.records) : first.records
    download.seeders = records.length
    const sample = records[0] as FileRecord
    const manifest = await this.loadManifest(entry, records, signal)
    if (entry.outputPath == null) {
      entry.name = safeFileName(sample.name, entry.cid)
      entry.outputPath = await this.chooseOutputPath(entry.requestedPath, entry.name)
    }
    entry.size = manifest.size
    entry.manifestRoot = sample.manifestRoot
    let prepared = false
    const prepare = async (found: FileRecord[]): Promise<FileRecord[]> => {
      const usable = await (this.options.prepareSeeders?.(entry, found, manifest.size, !prepared) ?? found)
      prepared = true
      return usable
    }
    const seeders = await prepare(records)
    entry.state = 'downloading'
    await this.entries.put(entry.cid, entry)

    const outputPath = entry.outputPath
    const partialPath = outputPath + PARTIAL_SUFFIX
    await mkdir(dirname(outputPath), { recursive: true })
    const handle = await open(partialPath, existsSync(partialPath) ? 'r+' : 'w+')
    const flush = new BackgroundFlush(handle)
    const chunkWriter = await ChunkWriter.open(partialPath, handle, manifest.chunkSize)
    try {
      const done = await this.verifiedChunks(entry.cid, manifest, handle)
      entry.bytesDone = [...done].reduce((sum, index) => sum + chunkLength(manifest, index), 0)
      await ensureSpace(outputPath, manifest.size - entry.bytesDone)
      await handle.truncate(manifest.size)
      const scheduler = new ChunkScheduler({
        manifest,
        sources: seeders.flatMap(record => this.options.sourcesFor(record)),
        done,
        downloadLimiter: this.options.downloadLimiter,
        buffers: this.chunkBuffers,
        signal,
        log: this.options.log,
        store: async ({ index, bytes, source }) => {
          await chunkWriter.write(index, bytes)
          flush.written(bytes.length)
          await this.chunks.put(`${entry.cid}:${index}`, 1)
          entry.bytesDone += bytes.length
          this.options.peerStats.record(source.peerId, { bytesDownloaded: bytes.length })
          this.options.onChunkVerified?.(entry, source.peerId, bytes.length)
        },
        onDrop: (source, _reason, corrupt) => {
          this.options.peerStats.record(source.peerId, corrupt ? { corruptChunks: 1 } : { failures: 1 })
        },
        findMoreSources: async () => {
          if (++rediscoveries > MAX_DISCOVERY_ROUNDS) return []
          const again = await discover()
          download.seeders = again.records.length
          return (await prepare(again.records)).flatMap(record => this.options.sourcesFor(record))
        }
      })
      download.scheduler = scheduler
      const known = new Set(records.map(record => record.peerId))
      late.attach(record => {
        if (record.manifestRoot !== entry.manifestRoot || known.has(record.peerId)) return
        known.add(record.peerId)
        prepare([record]).then(usable => {
          if (usable.length > 0 && !signal.aborted) scheduler.addSources(usable.flatMap(found => this.options.sourcesFor(found)))
        }).catch(() => {})
      })
      await scheduler.run()
      entry.state = 'verifying'
      await this.entries.put(entry.cid, entry)
      await flush.sync()
    } finally {
      await chunkWriter.close()
      await flush.settle()
      await handle.close()
      await this.options.onTransferEnded?.(entry)
    }
    await rename(partialPath, outputPath)
    await this.chunks.deleteWithPrefix(`${entry.cid}:`)
    await this.options.onCompleted(entry, manifest)
  }

  private async loadManifest (entry: DownloadEntry, records: FileRecord[], signal: AbortSignal): Promise<Manifest> {
    const stored = await this.manifests.get(entry.cid)
    if (stored != null) return decodeManifest(stored)
    const reasons: string[] = []
    for (const record of records) {
      for (const source of this.options.sourcesFor(record)) {
        try {
          const bytes = await source.fetchManifest(maxManifestBytes(record.size, record.chunkSize), AbortSignal.any([signal, AbortSignal.timeout(15_000)]))
          const manifest = decodeManifest(bytes)
          if (manifestRoot(manifest) !== record.manifestRoot || manifest.size !== record.size) {
            reasons.push(`${source.id}: manifest does not match its signed record`)
            continue
          }
          // Its chain must end at the content id: then chunks that all check are exactly that file.
          if (!manifestEndsAt(manifest, parseContentId(entry.cid).digest)) {
            reasons.push(`${source.id}: its manifest is not for ${entry.cid} (a false manifest)`)
            continue
          }
          await this.manifests.put(entry.cid, encodeManifest(manifest))
          return manifest
        } catch (err) {
          signal.throwIfAborted()
          reasons.push(`${source.id}: ${errorMessage(err)}`)
        }
      }
    }
    throw new DownloadFailedError(`no seeder delivered a valid manifest (${reasons.slice(0, 4).join('; ')})`)
  }

  /** Chunks recorded as verified, re-checked against the partial file so a torn write is refetched. */
  private async verifiedChunks (cid: string, manifest: Manifest, handle: FileHandle): Promise<Set<number>> {
    const done = new Set<number>()
    const keys = await this.chunks.keysWithPrefix(`${cid}:`)
    const buffer = Buffer.allocUnsafe(manifest.chunkSize)
    for (const key of keys) {
      const index = Number(key.slice(cid.length + 1))
      const length = chunkLength(manifest, index)
      const { bytesRead } = await handle.read(buffer, 0, length, index * manifest.chunkSize)
      if (bytesRead === length && await chunkMatches(manifest, index, buffer.subarray(0, length))) {
        done.add(index)
      } else {
        await this.chunks.delete(key)
      }
    }
    return done
  }

  private async chooseOutputPath (requested: string | undefined, name: string): Promise<string> {
    if (requested == null) return join(this.options.defaultDirectory, name)
    const info = await stat(requested).catch(() => undefined)
    return info?.isDirectory() === true ? join(requested, name) : requested
  }

  /** Samples progress on the timer only, so how often clients ask never skews the speed. */
  private emitAllProgress (): void {
    // Receive buffers freed since the last tick go back to the kernel rather than sit in the
    // allocator's arenas, so a transfer's memory is what it holds, not what it has churned.
    if (this.active.size > 0) native.releaseFreeMemory()
    const now = performance.now()
    for (const download of this.active.values()) {
      const samples = download.samples
      samples.push({ at: now, bytes: download.entry.bytesDone })
      while (samples.length > 2 && now - (samples[0] as { at: number }).at > SPEED_WINDOW_MS) samples.shift()
      const oldest = samples[0] as { at: number, bytes: number }
      download.speed = now > oldest.at ? Math.round((download.entry.bytesDone - oldest.bytes) / ((now - oldest.at) / 1000)) : 0
      this.emit('progress', this.progressOf(download.entry))
    }
  }

  private progressOf (entry: DownloadEntry): DownloadProgress {
    const download = this.active.get(entry.cid)
    const speed = download?.speed ?? 0
    const remaining = (entry.size ?? 0) - entry.bytesDone
    return {
      ...entry,
      speed,
      etaSeconds: speed > 0 && entry.size != null ? Math.ceil(remaining / speed) : null,
      seeders: download?.seeders ?? 0,
      sources: download?.scheduler?.sourceStats() ?? []
    }
  }
}

/** Seeders the discovery walk verifies after the first batch: held until the download runs, then joined. */
class LateSeeders {
  private readonly waiting: FileRecord[] = []
  private join?: (record: FileRecord) => void

  readonly offer = (record: FileRecord): void => {
    if (this.join == null) this.waiting.push(record)
    else this.join(record)
  }

  attach (join: (record: FileRecord) => void): void {
    this.join = join
    for (const record of this.waiting.splice(0)) join(record)
  }
}

/** Seeders must agree on the manifest; the largest agreeing group is trusted first. */
export function largestAgreeingGroup (records: FileRecord[]): FileRecord[] {
  const groups = new Map<string, FileRecord[]>()
  for (const record of records) {
    const key = `${record.manifestRoot}:${record.size}:${record.chunkSize}`
    groups.set(key, [...(groups.get(key) ?? []), record])
  }
  return [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? []
}

/** A name from the network never chooses a directory: only its last component, never dot-only. */
function safeFileName (name: string, cid: string): string {
  const cleaned = [...basename(name.replace(/\\/g, '/'))].filter(char => char.charCodeAt(0) >= 0x20).join('').trim()
  return cleaned === '' || /^\.+$/.test(cleaned) ? cid : cleaned
}

async function ensureSpace (path: string, bytesNeeded: number): Promise<void> {
  const info = await statfs(dirname(path)).catch(() => undefined)
  if (info == null) return
  const available = info.bavail * info.bsize
  if (available < bytesNeeded) {
    throw new DiskFullError(path, `needs ${bytesNeeded} more bytes, ${available} available`)
  }
}
