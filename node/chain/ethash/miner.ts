/**
 * Proof-of-work search on worker threads. Workers share the epoch's light cache (a
 * SharedArrayBuffer, posted once per epoch) and a generation counter: bumping the counter stops
 * every worker within one hash, which is how jobs are aborted, superseded and redistributed.
 */
import { randomBytes } from 'node:crypto'
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { HASHRATE_SAMPLE_MS, HASHRATE_WINDOW_MS, NONCE_BYTES, SEAL_HASH_BYTES } from './constants.js'
import { epochOf } from './epoch.js'
import { MinerWorkerError } from './errors.js'
import type { LightCache, LightCacheSource } from './light-cache.js'
import type { MinerWorkerInit, MinerWorkerRequest, MinerWorkerSolution } from './miner-worker.js'
import { targetWords } from './target.js'

const NONCE_SPACE = 1n << 64n

export interface MineRequest {
  readonly sealHash: Uint8Array
  readonly blockNumber: bigint
  readonly difficulty: bigint
  /** Aborting resolves the search with undefined, e.g. when a new head arrives. */
  readonly signal?: AbortSignal
}

export interface PowSolution {
  /** Big-endian, as stored in the header. */
  readonly nonce: Uint8Array
  readonly mixHash: Uint8Array
}

export interface MinerPoolOptions {
  /** Defaults to the number of CPUs. */
  readonly threads?: number
}

interface PoolWorker {
  readonly worker: Worker
  readonly counter: Int32Array
  epoch?: number
}

interface ActiveJob {
  readonly cache: LightCache
  readonly sealHash: Uint8Array
  readonly target: Uint32Array
  generation: number
  readonly settle: (result: PowSolution | undefined | Error) => void
}

export class MinerPool {
  private readonly workers: PoolWorker[] = []
  private readonly control = new Int32Array(new SharedArrayBuffer(4))
  private threadCount: number
  private active?: ActiveJob
  /** Bumped by every mine() call so one still waiting for its cache knows it was superseded. */
  private ticket = 0
  private hashes = 0
  private lastSampleHashes = 0
  private lastSampleAt = performance.now()
  private averageRate = 0
  private sampler?: NodeJS.Timeout

  constructor (private readonly caches: LightCacheSource, options: MinerPoolOptions = {}) {
    this.threadCount = checkThreads(options.threads ?? availableParallelism())
  }

  get threads (): number {
    return this.threadCount
  }

  /** Hashes per second over all threads, averaged over the last few seconds. */
  get hashrate (): number {
    return this.averageRate
  }

  /** Hashes computed since the pool was created. */
  get totalHashes (): number {
    for (const { counter } of this.workers) this.hashes += Atomics.exchange(counter, 0, 0)
    return this.hashes
  }

  /** Takes effect immediately; a running search is redistributed over the new threads. */
  setThreads (threads: number): void {
    this.threadCount = checkThreads(threads)
    if (this.workers.length === 0) return
    this.resize()
    if (this.active !== undefined) this.dispatch(this.active)
  }

  /**
   * Searches for a nonce meeting `difficulty`. Resolves undefined if aborted, superseded by another
   * mine() call, or stopped. Rejects with MinerWorkerError if a worker dies.
   */
  async mine (request: MineRequest): Promise<PowSolution | undefined> {
    if (request.sealHash.length !== SEAL_HASH_BYTES) throw new RangeError(`seal hash must be ${SEAL_HASH_BYTES} bytes`)
    const ticket = ++this.ticket
    this.settleActive(undefined)
    if (isAborted(request.signal)) return undefined
    const cache = await this.caches.getCache(epochOf(request.blockNumber))
    if (ticket !== this.ticket || isAborted(request.signal)) return undefined
    return new Promise((resolve, reject) => {
      const onAbort = (): void => this.settleActive(undefined)
      const job: ActiveJob = {
        cache,
        sealHash: request.sealHash.slice(),
        target: targetWords(request.difficulty),
        generation: 0,
        settle: (result) => {
          request.signal?.removeEventListener('abort', onAbort)
          if (result instanceof Error) reject(result)
          else resolve(result)
        }
      }
      request.signal?.addEventListener('abort', onAbort, { once: true })
      this.active = job
      this.resize()
      this.dispatch(job)
    })
  }

  /** Ends any search (resolving it undefined) and terminates the threads. */
  async stop (): Promise<void> {
    this.ticket++
    this.settleActive(undefined)
    clearInterval(this.sampler)
    this.sampler = undefined
    this.averageRate = 0
    const workers = this.workers.splice(0)
    for (const { counter } of workers) this.hashes += Atomics.exchange(counter, 0, 0)
    await Promise.all(workers.map(({ worker }) => worker.terminate()))
  }

  /** Gives each worker a disjoint quarter (half, ...) of the nonce space, all offset by one random start. */
  private dispatch (job: ActiveJob): void {
    job.generation = this.nextGeneration()
    const base = randomBytes(NONCE_BYTES).readBigUInt64BE()
    const stride = NONCE_SPACE / BigInt(this.workers.length)
    this.workers.forEach((entry, index) => {
      if (entry.epoch !== job.cache.epoch) {
        post(entry, { kind: 'cache', epoch: job.cache.epoch, words: job.cache.words, fullSize: job.cache.fullSize })
        entry.epoch = job.cache.epoch
      }
      post(entry, {
        kind: 'job',
        generation: job.generation,
        epoch: job.cache.epoch,
        sealHash: job.sealHash,
        target: job.target,
        startNonce: (base + BigInt(index) * stride) % NONCE_SPACE
      })
    })
  }

  private settleActive (result: PowSolution | undefined | Error): void {
    const job = this.active
    if (job === undefined) return
    this.active = undefined
    this.nextGeneration()
    job.settle(result)
  }

  private nextGeneration (): number {
    return Atomics.add(this.control, 0, 1) + 1
  }

  private resize (): void {
    while (this.workers.length > this.threadCount) {
      const entry = this.workers.pop()
      if (entry === undefined) break
      this.hashes += Atomics.exchange(entry.counter, 0, 0)
      void entry.worker.terminate()
    }
    while (this.workers.length < this.threadCount) this.workers.push(this.spawn())
    this.sampler ??= setInterval(() => this.sample(), HASHRATE_SAMPLE_MS).unref()
  }

  private spawn (): PoolWorker {
    const init: MinerWorkerInit = { control: this.control, counter: new Int32Array(new SharedArrayBuffer(4)) }
    const worker = new Worker(new URL('./miner-worker.js', import.meta.url), { workerData: init })
    const entry: PoolWorker = { worker, counter: init.counter }
    worker.on('message', (solution: MinerWorkerSolution) => {
      if (solution.generation !== this.active?.generation) return
      this.settleActive({ nonce: new Uint8Array(solution.nonce), mixHash: new Uint8Array(solution.mixHash) })
    })
    worker.on('error', (err) => this.dropWorker(entry, err.message))
    worker.on('exit', (code) => this.dropWorker(entry, `exited with code ${code}`))
    return entry
  }

  /** A dead worker leaves a hole in the nonce partition, so the running job fails rather than silently slowing down. */
  private dropWorker (entry: PoolWorker, detail: string): void {
    const index = this.workers.indexOf(entry)
    if (index === -1) return
    this.workers.splice(index, 1)
    this.settleActive(new MinerWorkerError(detail))
  }

  /** Exponential moving average whose weight follows the real sampling interval. */
  private sample (): void {
    const now = performance.now()
    const total = this.totalHashes
    const elapsed = now - this.lastSampleAt
    if (elapsed <= 0) return
    const rate = ((total - this.lastSampleHashes) * 1000) / elapsed
    const weight = 1 - Math.exp(-elapsed / HASHRATE_WINDOW_MS)
    this.averageRate += weight * (rate - this.averageRate)
    this.lastSampleHashes = total
    this.lastSampleAt = now
  }
}

function checkThreads (threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`mining threads must be a positive integer, got ${threads}`)
  return threads
}

function isAborted (signal: AbortSignal | undefined): boolean {
  return signal?.aborted ?? false
}

function post (entry: PoolWorker, request: MinerWorkerRequest): void {
  entry.worker.postMessage(request)
}
