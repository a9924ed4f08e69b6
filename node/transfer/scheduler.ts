import {
  CHUNK_REQUEST_TIMEOUT_MS, INITIAL_SOURCE_CONCURRENCY, MAX_SOURCE_CONCURRENCY, MAX_SOURCE_FAILURES,
  MAX_TOTAL_INFLIGHT_CHUNKS
} from '../config/constants.js'
import { ChunkBufferPool } from '../content/chunk-buffers.js'
import { chunkCount, chunkLength, chunkMatches, type Manifest } from '../content/manifest.js'
import { DownloadFailedError, errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import type { RateLimiter } from './rate-limiter.js'
import { SourceError, type ChunkSource } from './source.js'

/** A chunk is requested from at most this many sources at once during the end game. */
const MAX_ENDGAME_REQUESTERS = 2
/** In the end game, only chunks outstanding this long are raced by a second source. */
const ENDGAME_DELAY_MS = 300

/** Every source was dropped and no more were found: the download may go on with other seeders. */
export class SourcesExhaustedError extends DownloadFailedError {}

export interface SourceStats {
  id: string
  peerId: string
  transport: ChunkSource['transport']
  bytes: number
  chunks: number
  inflight: number
  concurrency: number
  dropped?: string
}

export interface VerifiedChunk {
  index: number
  bytes: Uint8Array
  source: ChunkSource
}

export interface SchedulerOptions {
  manifest: Manifest
  sources: ChunkSource[]
  /** Chunks already verified and stored (a resumed download). */
  done: Set<number>
  /** Stores a verified chunk; the scheduler does not count it done until this resolves. */
  store: (chunk: VerifiedChunk) => Promise<void>
  downloadLimiter: RateLimiter
  /**
   * Buffers to receive chunks into, shared across downloads so memory stays at the chunks in
   * flight; a pool of smaller buffers than the manifest's chunks is not used.
   */
  buffers?: ChunkBufferPool
  signal: AbortSignal
  /** Called when every source is gone and chunks remain; returns fresh sources, if any. */
  findMoreSources?: () => Promise<ChunkSource[]>
  onDrop?: (source: ChunkSource, reason: string, corrupt: boolean) => void
  /** A request this scheduler called off while the source may have been serving it (a raced duplicate, the download's end). */
  onCalledOff?: (source: ChunkSource, index: number, bytes: number) => void
  log: Logger
}

interface SourceState {
  source: ChunkSource
  inflight: Map<number, AbortController>
  concurrency: number
  failures: number
  stats: SourceStats
}

/**
 * Protocol-agnostic multi-source download: every source pulls chunks in parallel, each with its
 * own pipeline depth that grows while requests succeed and halves when they fail (AIMD); when
 * nothing is left to hand out, idle sources duplicate the slowest in-flight chunks (end game).
 * Every chunk is verified against the manifest, which every source's seeder signs (the download
 * manager gives a scheduler the seeders of one manifest only); a seeder that sends one bad byte
 * is dropped with all of its sources.
 */
export class ChunkScheduler {
  private readonly total: number
  private readonly states = new Map<string, SourceState>()
  private readonly requesters = new Map<number, Set<string>>()
  private readonly dropReasons: string[] = []
  private readonly corruptPeers = new Set<string>()
  /** Chunks verified and being written: a racing duplicate from the end game is discarded. */
  private readonly storing = new Set<number>()
  private readonly requestedAt = new Map<number, number>()
  private readonly buffers: ChunkBufferPool
  private pumpTimer?: NodeJS.Timeout
  /** Chunks are handed out from the last to the first; see `pick`. */
  private nextCandidate: number
  private totalInflight = 0
  private finish?: { resolve: () => void, reject: (err: Error) => void }
  private refilling = false
  private settled = false

  constructor (private readonly options: SchedulerOptions) {
    this.total = chunkCount(options.manifest.size, options.manifest.chunkSize)
    this.nextCandidate = this.total - 1
    this.buffers = options.buffers != null && options.buffers.chunkSize >= options.manifest.chunkSize
      ? options.buffers
      : new ChunkBufferPool(options.manifest.chunkSize)
    for (const source of options.sources) this.addSource(source)
  }

  get doneCount (): number {
    return this.options.done.size
  }

  sourceStats (): SourceStats[] {
    return [...this.states.values()].map(state => ({ ...state.stats, inflight: state.inflight.size, concurrency: state.concurrency }))
  }

  /** Adds seeders found after the download started; known or corrupt ones are ignored. */
  addSources (sources: ChunkSource[]): void {
    for (const source of sources) {
      if (!this.corruptPeers.has(source.peerId)) this.addSource(source)
    }
    this.pump()
  }

  async run (): Promise<void> {
    if (this.doneCount === this.total) return
    this.options.signal.throwIfAborted()
    const finished = new Promise<void>((resolve, reject) => { this.finish = { resolve, reject } })
    const onAbort = (): void => { this.fail(this.options.signal.reason instanceof Error ? this.options.signal.reason : new Error('download aborted')) }
    this.options.signal.addEventListener('abort', onAbort, { once: true })
    try {
      this.pump()
      await finished
    } finally {
      clearTimeout(this.pumpTimer)
      this.options.signal.removeEventListener('abort', onAbort)
      for (const state of this.states.values()) {
        for (const [index, controller] of state.inflight) this.callOff(state, index, controller)
        state.source.close?.()
      }
    }
  }

  /** Racing a chunk on another transport of the seeder already sending it only makes that seeder send it twice. */
  private askedOfSeeder (requesters: Set<string>, peerId: string): boolean {
    for (const id of requesters) if (this.states.get(id)?.source.peerId === peerId) return true
    return false
  }

  private callOff (state: SourceState, index: number, controller: AbortController): void {
    if (controller.signal.aborted) return
    controller.abort()
    this.options.onCalledOff?.(state.source, index, chunkLength(this.options.manifest, index))
  }

  private addSource (source: ChunkSource): void {
    if (this.states.has(source.id)) return
    this.states.set(source.id, {
      source,
      inflight: new Map(),
      concurrency: INITIAL_SOURCE_CONCURRENCY,
      failures: 0,
      stats: { id: source.id, peerId: source.peerId, transport: source.transport, bytes: 0, chunks: 0, inflight: 0, concurrency: INITIAL_SOURCE_CONCURRENCY }
    })
  }

  private activeStates (): SourceState[] {
    return [...this.states.values()].filter(state => state.stats.dropped == null)
  }

  private pump (): void {
    if (this.settled) return
    if (this.doneCount === this.total) {
      this.settled = true
      this.finish?.resolve()
      return
    }
    const active = this.activeStates()
    if (active.length === 0) {
      if (this.totalInflight === 0) void this.refillSources()
      return
    }
    let progressed = true
    while (progressed && this.totalInflight < MAX_TOTAL_INFLIGHT_CHUNKS) {
      progressed = false
      // Sources with the fewest requests out go first, so the shared in-flight budget is split
      // fairly and a slow (rate-limited) seeder cannot hoard it while a fast one sits idle.
      active.sort((a, b) => a.inflight.size - b.inflight.size)
      for (const state of active) {
        if (state.stats.dropped != null || state.inflight.size >= state.concurrency) continue
        if (this.totalInflight >= MAX_TOTAL_INFLIGHT_CHUNKS) break
        const index = this.pick(state)
        if (index == null) continue
        this.request(state, index)
        progressed = true
      }
    }
  }

  /**
   * The highest chunk nobody fetches yet; failing that (the end game), the oldest in-flight chunk
   * that has been outstanding longer than ENDGAME_DELAY_MS, so fast transfers are not doubled.
   *
   * Last to first, because that is the order in which checks prove a manifest: the last chunk
   * checks against the content id's digest itself, so once it has checked, the state before it
   * is the file's (nobody can find bytes that reach a given SHA-256 state from another state),
   * and so on down. A false manifest then fails within the chunks in flight of its first false
   * state, and the chunks that checked before were the file's own; first to last, a manifest
   * made of another file's states with the right last state would check every chunk but the last.
   */
  private pick (state: SourceState): number | undefined {
    while (this.nextCandidate >= 0 && this.options.done.has(this.nextCandidate)) this.nextCandidate--
    for (let index = this.nextCandidate; index >= 0; index--) {
      if (!this.options.done.has(index) && !this.storing.has(index) && (this.requesters.get(index)?.size ?? 0) === 0) return index
    }
    const now = performance.now()
    let best: number | undefined
    let bestStart = Number.POSITIVE_INFINITY
    let youngest = Number.POSITIVE_INFINITY
    for (const [index, who] of this.requesters) {
      if (who.size === 0 || who.size >= MAX_ENDGAME_REQUESTERS || this.askedOfSeeder(who, state.source.peerId) || this.options.done.has(index) || this.storing.has(index)) continue
      const started = this.requestedAt.get(index) ?? now
      if (now - started < ENDGAME_DELAY_MS) {
        youngest = Math.min(youngest, started)
        continue
      }
      if (started < bestStart) {
        best = index
        bestStart = started
      }
    }
    if (best == null && youngest !== Number.POSITIVE_INFINITY) this.pumpLater(youngest + ENDGAME_DELAY_MS - now)
    return best
  }

  private pumpLater (delayMs: number): void {
    if (this.pumpTimer != null) return
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined
      this.pump()
    }, Math.max(1, delayMs))
  }

  private request (state: SourceState, index: number): void {
    const controller = new AbortController()
    state.inflight.set(index, controller)
    this.totalInflight++
    let who = this.requesters.get(index)
    if (who == null) {
      this.requesters.set(index, who = new Set())
      this.requestedAt.set(index, performance.now())
    }
    who.add(state.source.id)
    // One timer per request, cleared when it settles: AbortSignal.timeout would keep every
    // request's signals alive for the whole timeout, long enough to pile up in the old heap.
    const timeout = new SourceError(`chunk ${index} took over ${CHUNK_REQUEST_TIMEOUT_MS / 1000} s`)
    const timer = setTimeout(() => { controller.abort(timeout) }, CHUNK_REQUEST_TIMEOUT_MS)
    this.fetchAndVerify(state, index, controller.signal).then(
      () => { this.release(state, index) },
      (err: unknown) => {
        this.release(state, index)
        // Requests the scheduler called off itself (a raced duplicate, a dropped source) are no failure.
        const calledOff = controller.signal.aborted && controller.signal.reason !== timeout
        if (!calledOff || this.options.signal.aborted) this.onFailure(state, index, err)
      }
    ).finally(() => {
      clearTimeout(timer)
      this.pump()
    })
  }

  private release (state: SourceState, index: number): void {
    state.inflight.delete(index)
    this.totalInflight--
    const who = this.requesters.get(index)
    who?.delete(state.source.id)
    if (who?.size === 0) {
      this.requesters.delete(index)
      this.requestedAt.delete(index)
    }
  }

  /** `signal` aborts on a timeout, when the scheduler calls the request off, and when the download stops (`run` aborts every request). */
  private async fetchAndVerify (state: SourceState, index: number, signal: AbortSignal): Promise<void> {
    const { manifest, downloadLimiter } = this.options
    const length = chunkLength(manifest, index)
    await downloadLimiter.take(length, signal)
    const buffer = this.buffers.acquire()
    try {
      const bytes = await state.source.fetchChunk(index, index * manifest.chunkSize, length, signal, buffer.subarray(0, length))
      if (!await this.verifyAndStore(state, index, bytes)) return
    } finally {
      // Stored or discarded: nothing refers to the bytes any more.
      this.buffers.release(buffer)
    }
    this.options.done.add(index)
    state.stats.bytes += length
    state.stats.chunks++
    state.failures = 0
    state.concurrency = Math.min(MAX_SOURCE_CONCURRENCY, state.concurrency + 1)
  }

  /** Checks a received chunk against the manifest and stores it; false for a corrupt chunk or a raced duplicate. */
  private async verifyAndStore (state: SourceState, index: number, bytes: Uint8Array): Promise<boolean> {
    if (this.options.done.has(index) || this.storing.has(index)) return false
    if (!await chunkMatches(this.options.manifest, index, bytes)) {
      this.dropPeer(state.source.peerId, `sent a corrupt chunk ${index}`)
      return false
    }
    // While this one was hashed, a raced duplicate may have been verified or the download may
    // have ended (and its file be closing).
    if (this.settled || this.options.done.has(index) || this.storing.has(index)) return false
    for (const [id, other] of this.states) {
      const duplicate = other.inflight.get(index)
      if (id !== state.source.id && duplicate != null) this.callOff(other, index, duplicate)
    }
    this.storing.add(index)
    try {
      await this.options.store({ index, bytes, source: state.source })
    } finally {
      this.storing.delete(index)
    }
    return true
  }

  private onFailure (state: SourceState, index: number, err: unknown): void {
    if (this.settled) return
    if (isStorageError(err)) {
      this.fail(err as Error)
      return
    }
    state.failures++
    state.concurrency = Math.max(1, Math.floor(state.concurrency / 2))
    const fatal = err instanceof SourceError && err.fatal
    this.options.log.debug({ source: state.source.id, index, err: errorMessage(err) }, 'chunk request failed')
    if (fatal || state.failures >= MAX_SOURCE_FAILURES) this.dropSource(state, errorMessage(err))
  }

  private dropPeer (peerId: string, reason: string): void {
    this.corruptPeers.add(peerId)
    for (const state of this.states.values()) {
      if (state.source.peerId === peerId) this.dropSource(state, reason)
    }
  }

  private dropSource (state: SourceState, reason: string): void {
    if (state.stats.dropped != null) return
    state.stats.dropped = reason
    this.dropReasons.push(`${state.source.id}: ${reason}`)
    this.options.log.warn({ source: state.source.id, reason }, 'source dropped')
    this.options.onDrop?.(state.source, reason, this.corruptPeers.has(state.source.peerId))
    for (const controller of state.inflight.values()) controller.abort()
    state.source.close?.()
  }

  private async refillSources (): Promise<void> {
    if (this.refilling || this.settled) return
    this.refilling = true
    try {
      const fresh = await this.options.findMoreSources?.() ?? []
      for (const source of fresh) {
        const previous = this.states.get(source.id)
        if (this.corruptPeers.has(source.peerId) || (previous != null && previous.stats.dropped == null)) continue
        this.states.delete(source.id)
        this.addSource(source)
      }
      if (this.activeStates().length === 0) {
        this.fail(new SourcesExhaustedError(`every seeder failed (${this.dropReasons.slice(-4).join('; ') || 'none found'})`))
      }
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
    } finally {
      this.refilling = false
      this.pump()
    }
  }

  private fail (err: Error): void {
    if (this.settled) return
    this.settled = true
    this.finish?.reject(err)
  }
}

function isStorageError (err: unknown): boolean {
  const code = (err as { code?: string })?.code
  return code === 'ENOSPC' || code === 'DISK_FULL' || code === 'EROFS' || code === 'EACCES' || code === 'EDQUOT'
}
