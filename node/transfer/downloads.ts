import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { mkdir, open, rm, stat, statfs, type FileHandle } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { setTimeout } from 'node:timers/promises'
import {
  CHUNK_SIZE, DISCOVERY_RETRY_DELAY_MS, INITIAL_DISCOVERY_ATTEMPTS, MAX_DISCOVERY_ROUNDS, MAX_TOTAL_INFLIGHT_CHUNKS,
  PROGRESS_EVENT_INTERVAL_MS, SPEED_WINDOW_MS
} from '../config/constants.js'
import { ChunkBufferPool } from '../content/chunk-buffers.js'
import { parseContentId } from '../content/cid.js'
import { chunkLength, chunkMatches, decodeManifest, encodeManifest, manifestEndsAt, manifestRoot, maxManifestBytes, type Manifest } from '../content/manifest.js'
import { releaseTransferMemory } from '../util/transfer-memory.js'
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
import { ChunkScheduler, SourcesExhaustedError, type SourceStats } from './scheduler.js'
import { BackgroundFlush } from './background-flush.js'
import { ChunkWriter } from './chunk-writer.js'
import { ManifestCandidates, type ManifestGroup } from './manifest-candidates.js'
import { OutputExistsError, PARTIAL_SUFFIX, numberedName, pathExists, placeFile, refuseExistingOutput, safeFileName } from './output-path.js'
import { Mutex } from '../util/mutex.js'
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
  /** Replace an existing file at the output path; without it, an existing file is never touched. */
  overwrite?: boolean
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
  /** A chunk request the download called off after the seeder may have begun serving it. */
  onChunkCalledOff?: (entry: DownloadEntry, peerId: string, bytes: number) => void
  /** The transfer is over, finished or not: no more chunks will be verified for this run. */
  onTransferEnded?: (entry: DownloadEntry) => Promise<void>
  /** Called once a finished file is in place, to start seeding it. */
  onCompleted: (entry: DownloadEntry, manifest: Manifest) => Promise<void>
  defaultDirectory: string
  log: Logger
}

/** A clash gets ` (1)`, ` (2)`... up to this before the download gives up on the directory. */
const MAX_NAME_NUMBER = 9999
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
  /** The output path of this content id's earlier, failed download, whose partial file may be reused. */
  previousOutput?: string
  /** Sources of the manifests tried before the one in use, as they ended. */
  pastSources: SourceStats[]
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

  async start (cidText: string, requestedPath?: string, limits?: DownloadLimits, options: { overwrite?: boolean } = {}): Promise<DownloadEntry> {
    const { text: cid } = parseContentId(cidText)
    const running = this.active.get(cid)
    if (running != null) return running.entry
    if (requestedPath != null && requestedPath.trim() === '') throw new InvalidInputError('output path is empty')
    const requested = requestedPath == null ? undefined : resolve(requestedPath)
    if (requested != null) await refuseExistingOutput(requested, options.overwrite === true)
    const previous = await this.entries.get(cid)
    const entry: DownloadEntry = {
      cid,
      requestedPath: requested,
      state: 'discovering',
      bytesDone: 0,
      startedAt: Date.now(),
      limits,
      overwrite: options.overwrite === true ? true : undefined
    }
    await this.entries.put(cid, entry)
    this.launch(entry, previous?.state === 'failed' ? previous.outputPath : undefined)
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
      await this.manifests.delete(cid)
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

  private launch (entry: DownloadEntry, previousOutput?: string): void {
    const controller = new AbortController()
    const download: ActiveDownload = { entry, controller, samples: [], speed: 0, seeders: 0, done: Promise.resolve(), previousOutput, pastSources: [] }
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

  /**
   * Finds the seeders, groups them by the manifest they sign, and tries one group at a time
   * (see ManifestCandidates): a chunk is kept only if it checks under the manifest of the seeder
   * that sent it, and that manifest is the one in use. A seeder whose chunk fails its own
   * manifest is dropped and blamed; once a group has no seeder left, the next group is tried,
   * and the chunks already kept stay only if they check under its manifest too.
   */
  private async run (download: ActiveDownload): Promise<void> {
    const { entry, controller } = download
    const { signal } = controller
    const candidates = new ManifestCandidates()
    const late = new LateSeeders()
    let rediscoveries = 0
    const discover = async (options: { onLateSeeder?: (record: FileRecord) => void, retry?: boolean } = {}): Promise<number> => {
      const { seeders, peersAsked } = await this.options.discovery.findSeeders(entry.cid, signal, { onLateSeeder: options.onLateSeeder })
      candidates.offer(seeders, { retry: options.retry })
      return peersAsked
    }
    // A file added a moment ago may not have reached the DHT yet: look again before giving up.
    let peersAsked = await discover({ onLateSeeder: late.offer })
    for (let attempt = 1; candidates.seederCount === 0 && attempt < INITIAL_DISCOVERY_ATTEMPTS; attempt++) {
      await setTimeout(DISCOVERY_RETRY_DELAY_MS, undefined, { signal })
      peersAsked = await discover({ onLateSeeder: late.offer })
    }
    if (candidates.seederCount === 0) throw new NoSeedersError(entry.cid, peersAsked)

    const digest = parseContentId(entry.cid).digest
    // Written once a chunk checks under a manifest, deleted once one fails under it, in call order.
    const manifestWrites = new Mutex()
    let stored = await this.storedManifest(entry.cid)
    let current: { group: ManifestGroup, join: (record: FileRecord) => void } | undefined
    late.attach(record => {
      for (const fresh of candidates.offer([record])) current?.join(fresh)
    })
    const failures: string[] = []
    const failure = (): DownloadFailedError => new DownloadFailedError(
      `every seeder failed (${[...candidates.reasons(), ...failures].slice(-4).join('; ') || 'none left'})`
    )
    let transferred = false
    let completedWith: Manifest | undefined
    try {
      for (;;) {
        signal.throwIfAborted()
        let group = candidates.next(stored?.root ?? entry.manifestRoot)
        if (group == null && rediscoveries < MAX_DISCOVERY_ROUNDS) {
          // Every group advertised so far has been tried: look again (seeders that only timed
          // out get another chance, as do new ones), then give up.
          rediscoveries++
          await discover({ retry: true })
          group = candidates.next(stored?.root ?? entry.manifestRoot)
        }
        if (group == null) throw failure()
        const manifest = await this.manifestOf(entry.cid, digest, group, candidates, stored, failures, signal)
        if (manifest == null) continue
        if (entry.outputPath == null) {
          const named = candidates.usable(group)[0] as FileRecord
          entry.name = safeFileName(named.name, entry.cid)
          await this.chooseOutputPath(entry, download.previousOutput)
        }
        entry.size = manifest.size
        entry.manifestRoot = group.root
        download.seeders = candidates.usable(group).length
        let firstPrepare = true
        const prepare = async (found: FileRecord[]): Promise<FileRecord[]> => {
          const usable = await (this.options.prepareSeeders?.(entry, found, manifest.size, firstPrepare) ?? found)
          firstPrepare = false
          return usable
        }
        let seeders: FileRecord[]
        try {
          seeders = await prepare(candidates.usable(group))
        } catch (err) {
          signal.throwIfAborted()
          // Terms a group cannot meet fail the download only if no other group may.
          if (!candidates.hasOther(group)) throw err
          group.tried = true
          failures.push(`manifest ${group.root.slice(0, 12)}: ${errorMessage(err)}`)
          continue
        }
        const thisGroup = group
        const persisted = { done: false }
        current = {
          group,
          join: record => {
            if (`${record.manifestRoot}:${record.size}:${record.chunkSize}` !== thisGroup.key || signal.aborted) return
            download.seeders = candidates.usable(thisGroup).length
            prepare([record]).then(usable => {
              if (usable.length > 0 && !signal.aborted) download.scheduler?.addSources(usable.flatMap(found => this.options.sourcesFor(found)))
            }).catch(() => {})
          }
        }
        transferred = true
        try {
          await this.transfer(download, manifest, seeders.flatMap(record => this.options.sourcesFor(record)), {
            onVerified: async () => {
              if (persisted.done) return
              persisted.done = true
              stored = { root: thisGroup.root, manifest }
              await manifestWrites.run(async () => { await this.manifests.put(entry.cid, encodeManifest(manifest)) })
            },
            onCorrupt: (peerId, reason) => {
              candidates.blame(peerId, reason)
              download.seeders = candidates.usable(thisGroup).length
              // A manifest under which a chunk failed is not kept: the next chunk that checks under
              // it stores it again, if it was a seeder's bytes that were wrong and not the manifest.
              persisted.done = false
              if (stored?.root === thisGroup.root) stored = undefined
              manifestWrites.run(async () => { await this.manifests.delete(entry.cid) }).catch(() => {})
            },
            findMoreSources: async () => {
              // Another manifest's seeders go first; then look for more of this one's.
              if (candidates.hasOther(thisGroup) || ++rediscoveries > MAX_DISCOVERY_ROUNDS) return []
              await discover({ retry: true })
              download.seeders = candidates.usable(thisGroup).length
              return (await prepare(candidates.usable(thisGroup))).flatMap(record => this.options.sourcesFor(record))
            }
          })
          completedWith = manifest
          break
        } catch (err) {
          if (!(err instanceof SourcesExhaustedError) || signal.aborted) throw err
          thisGroup.tried = true
          failures.push(err.message)
          this.options.log.info({ cid: entry.cid, manifestRoot: thisGroup.root, err: err.message }, 'no seeder of this manifest left; trying the next')
        } finally {
          current = undefined
          if (completedWith == null) {
            download.pastSources.push(...download.scheduler?.sourceStats() ?? [])
            download.scheduler = undefined
          }
        }
      }
    } finally {
      await manifestWrites.run(async () => {})
      if (transferred) await this.options.onTransferEnded?.(entry)
    }
    await this.place(entry, (entry.outputPath as string) + PARTIAL_SUFFIX)
    await this.chunks.deleteWithPrefix(`${entry.cid}:`)
    await this.manifests.delete(entry.cid)
    await this.options.onCompleted(entry, completedWith as Manifest)
  }

  /**
   * Runs the scheduler over the partial file with one manifest's seeders. Chunks recorded
   * earlier (before a restart, or under another manifest) are kept only if they check under this one.
   */
  private async transfer (
    download: ActiveDownload, manifest: Manifest, sources: ChunkSource[],
    hooks: { onVerified: () => Promise<void>, onCorrupt: (peerId: string, reason: string) => void, findMoreSources: () => Promise<ChunkSource[]> }
  ): Promise<void> {
    const { entry, controller: { signal } } = download
    const outputPath = entry.outputPath as string
    const partialPath = outputPath + PARTIAL_SUFFIX
    await mkdir(dirname(outputPath), { recursive: true })
    const handle = await open(partialPath, existsSync(partialPath) ? 'r+' : 'w+')
    const flush = new BackgroundFlush(handle)
    const chunkWriter = await ChunkWriter.open(partialPath, handle, manifest.chunkSize)
    try {
      const done = await this.verifiedChunks(entry.cid, manifest, handle)
      if (done.size > 0) await hooks.onVerified()
      entry.bytesDone = [...done].reduce((sum, index) => sum + chunkLength(manifest, index), 0)
      await ensureSpace(outputPath, manifest.size - entry.bytesDone)
      await handle.truncate(manifest.size)
      entry.state = 'downloading'
      await this.entries.put(entry.cid, entry)
      const scheduler = new ChunkScheduler({
        manifest,
        sources,
        done,
        downloadLimiter: this.options.downloadLimiter,
        buffers: this.chunkBuffers,
        signal,
        log: this.options.log,
        store: async ({ index, bytes, source }) => {
          await hooks.onVerified()
          await chunkWriter.write(index, bytes)
          flush.written(bytes.length)
          await this.chunks.put(`${entry.cid}:${index}`, 1)
          entry.bytesDone += bytes.length
          this.options.peerStats.record(source.peerId, { bytesDownloaded: bytes.length })
          this.options.onChunkVerified?.(entry, source.peerId, bytes.length)
        },
        onDrop: (source, reason, corrupt) => {
          this.options.peerStats.record(source.peerId, corrupt ? { corruptChunks: 1 } : { failures: 1 })
          if (corrupt) hooks.onCorrupt(source.peerId, reason)
        },
        onCalledOff: (source, _index, bytes) => { this.options.onChunkCalledOff?.(entry, source.peerId, bytes) },
        findMoreSources: hooks.findMoreSources
      })
      download.scheduler = scheduler
      await scheduler.run()
      entry.state = 'verifying'
      await this.entries.put(entry.cid, entry)
      await flush.sync()
    } finally {
      await chunkWriter.close()
      await flush.settle()
      await handle.close()
    }
  }

  /** The manifest kept for an unfinished download, if any: only ever a preference, never trusted over the chunks. */
  private async storedManifest (cid: string): Promise<{ root: string, manifest: Manifest } | undefined> {
    const bytes = await this.manifests.get(cid)
    if (bytes == null) return undefined
    try {
      const manifest = decodeManifest(bytes)
      return { root: manifestRoot(manifest), manifest }
    } catch {
      await this.manifests.delete(cid)
      return undefined
    }
  }

  /**
   * The group's manifest, from one of its seeders (or kept from an earlier run): its bytes must
   * hash to the root the seeder signed, and its chain must end at the content id's digest, or
   * no chunk could ever make the file. A seeder that serves another manifest than the one it
   * signs is blamed; a manifest that does not end at the content id rejects its whole group.
   */
  private async manifestOf (
    cid: string, digest: Uint8Array, group: ManifestGroup, candidates: ManifestCandidates,
    stored: { root: string, manifest: Manifest } | undefined, failures: string[], signal: AbortSignal
  ): Promise<Manifest | undefined> {
    if (group.manifest == null && stored?.root === group.root && stored.manifest.size === group.size &&
        stored.manifest.chunkSize === group.chunkSize && manifestEndsAt(stored.manifest, digest)) {
      group.manifest = stored.manifest
    }
    if (group.manifest != null) return group.manifest
    for (const record of candidates.usable(group)) {
      for (const source of this.options.sourcesFor(record)) {
        try {
          const bytes = await source.fetchManifest(maxManifestBytes(record.size, record.chunkSize), AbortSignal.any([signal, AbortSignal.timeout(15_000)]))
          const manifest = decodeManifest(bytes)
          if (manifestRoot(manifest) !== group.root || manifest.size !== group.size || manifest.chunkSize !== group.chunkSize) {
            candidates.blame(record.peerId, 'served a manifest that does not match its signed record')
            break
          }
          if (!manifestEndsAt(manifest, digest)) {
            group.rejected = `it does not end at ${cid} (a false manifest)`
            return undefined
          }
          group.manifest = manifest
          return manifest
        } catch (err) {
          signal.throwIfAborted()
          failures.push(`${source.id}: ${errorMessage(err)}`)
        }
      }
    }
    group.tried = true
    return undefined
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

  /**
   * Sets the output path: the path the user gave, or, for a directory (the default one when none
   * was given), the seeder's name in it, sanitised, with ` (1)`, ` (2)`... before its extension
   * when the name is taken (by a file, or by another download's partial file), unless
   * `overwrite` lets it replace a file. An explicit path that exists by now is refused.
   */
  private async chooseOutputPath (entry: DownloadEntry, previousOutput?: string): Promise<void> {
    const requested = entry.requestedPath
    const overwrite = entry.overwrite === true
    const info = requested == null ? undefined : await stat(requested).catch(() => undefined)
    if (requested != null && info?.isDirectory() !== true) {
      await refuseExistingOutput(requested, overwrite)
      entry.outputPath = requested
    } else {
      await this.takeFreeName(entry, requested ?? this.options.defaultDirectory, entry.name ?? entry.cid, previousOutput)
    }
    // A failed earlier download of this content id to another place leaves nothing behind.
    if (previousOutput != null && previousOutput !== entry.outputPath) await rm(previousOutput + PARTIAL_SUFFIX, { force: true })
  }

  private async takeFreeName (entry: DownloadEntry, directory: string, name: string, reusable?: string): Promise<void> {
    for (let number = 0; number <= MAX_NAME_NUMBER; number++) {
      const candidate = join(directory, number === 0 ? name : numberedName(name, number))
      // With `overwrite`, only a regular file (or a link to one) is replaced.
      const taken = await pathExists(candidate) && !(entry.overwrite === true && (await stat(candidate).catch(() => undefined))?.isFile() === true)
      if (taken || (candidate !== reusable && await pathExists(candidate + PARTIAL_SUFFIX))) continue
      // Checked and taken with no await in between, so two downloads never pick the same name.
      if ([...this.active.values()].some(other => other.entry !== entry && other.entry.outputPath === candidate)) continue
      entry.outputPath = candidate
      return
    }
    throw new InvalidInputError(`no free name for ${name} in ${directory} (tried up to ${numberedName(name, MAX_NAME_NUMBER)})`)
  }

  /** Puts the finished file in place without replacing anything the user has, unless asked to. */
  private async place (entry: DownloadEntry, partialPath: string): Promise<void> {
    const intoDirectory = entry.requestedPath == null || entry.outputPath !== entry.requestedPath
    for (;;) {
      const output = entry.outputPath as string
      if (await placeFile(partialPath, output, entry.overwrite === true)) return
      // Something took the name while the download ran.
      if (!intoDirectory) throw new OutputExistsError(output, ` (it appeared during the download, which is kept in ${partialPath})`)
      await this.takeFreeName(entry, dirname(output), entry.name ?? entry.cid, output)
    }
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
      sources: [...download?.pastSources ?? [], ...download?.scheduler?.sourceStats() ?? []]
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

/**
 * The seeders that sign the manifest most of them sign: for quotes only. Downloads never trust a
 * manifest for its votes (see ManifestCandidates).
 */
export function largestAgreeingGroup (records: FileRecord[]): FileRecord[] {
  const groups = new Map<string, FileRecord[]>()
  for (const record of records) {
    const key = `${record.manifestRoot}:${record.size}:${record.chunkSize}`
    groups.set(key, [...(groups.get(key) ?? []), record])
  }
  return [...groups.values()].sort((a, b) => b.length - a.length)[0] ?? []
}

async function ensureSpace (path: string, bytesNeeded: number): Promise<void> {
  const info = await statfs(dirname(path)).catch(() => undefined)
  if (info == null) return
  const available = info.bavail * info.bsize
  if (available < bytesNeeded) {
    throw new DiskFullError(path, `needs ${bytesNeeded} more bytes, ${available} available`)
  }
}
