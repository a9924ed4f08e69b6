/**
 * Light caches per epoch, built once (on a worker thread) and kept as binary files so restarts and
 * other node processes on the machine skip the multi-second build. Files are written to a temporary
 * name and renamed into place, so readers only ever see complete files and concurrent writers of the
 * same epoch simply replace identical content. A file is trusted only if its header matches the
 * epoch and size and the sha256 of the payload checks out; anything else is rebuilt and rewritten.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { endianness } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import type { CacheBuildRequest } from './cache-build-worker.js'
import {
  CACHE_FILE_HEADER_BYTES, CACHE_FILE_MAGIC, CACHE_FILE_VERSION, DEFAULT_CACHES_IN_MEMORY
} from './constants.js'
import { UnsupportedHostError } from './errors.js'
import { allocateLightCache, type LightCache, type LightCacheSource } from './light-cache.js'

const CHECKSUM_OFFSET = 24

export interface CacheLoadEvent {
  readonly epoch: number
  /** 'disk' when a valid file was read; 'built' otherwise (no file, or one that failed validation). */
  readonly source: 'disk' | 'built'
  readonly ms: number
  /** Why an existing file was not used, when it existed but failed validation. */
  readonly rejected?: string
  /** Set when the built cache could not be written; the cache is still usable from memory. */
  readonly persistError?: Error
}

export interface EthashCacheStoreOptions {
  /** Epochs kept in memory, least recently used dropped first. */
  readonly maxInMemory?: number
  readonly onLoad?: (event: CacheLoadEvent) => void
}

export class EthashCacheStore implements LightCacheSource {
  private readonly memory = new Map<number, Promise<LightCache>>()
  private readonly maxInMemory: number

  constructor (readonly dir: string, private readonly options: EthashCacheStoreOptions = {}) {
    if (endianness() !== 'LE') throw new UnsupportedHostError()
    this.maxInMemory = Math.max(1, options.maxInMemory ?? DEFAULT_CACHES_IN_MEMORY)
  }

  fileFor (epoch: number): string {
    return join(this.dir, `ethash-cache-${epoch}.bin`)
  }

  /** Concurrent calls for one epoch share a single load or build. */
  getCache (epoch: number): Promise<LightCache> {
    let pending = this.memory.get(epoch)
    if (pending !== undefined) {
      this.memory.delete(epoch)
    } else {
      pending = this.load(epoch)
      pending.catch(() => this.memory.delete(epoch))
    }
    this.memory.set(epoch, pending)
    for (const old of this.memory.keys()) {
      if (this.memory.size <= this.maxInMemory) break
      this.memory.delete(old)
    }
    return pending
  }

  private async load (epoch: number): Promise<LightCache> {
    const started = performance.now()
    const cache = allocateLightCache(epoch)
    const rejected = await this.readFile(cache)
    if (rejected === undefined) {
      this.options.onLoad?.({ epoch, source: 'disk', ms: performance.now() - started })
      return cache
    }
    await buildOnWorker(cache)
    const persistError = await this.writeFile(cache).then(() => undefined, (err: unknown) => asError(err))
    this.options.onLoad?.({
      epoch,
      source: 'built',
      ms: performance.now() - started,
      ...(rejected === 'missing' ? {} : { rejected }),
      ...(persistError === undefined ? {} : { persistError })
    })
    return cache
  }

  /** Fills `cache.words` from disk; returns why the file could not be used, or undefined on success. */
  private async readFile (cache: LightCache): Promise<string | undefined> {
    let file: Buffer
    try {
      file = await readFile(this.fileFor(cache.epoch))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing'
      return `unreadable: ${asError(err).message}`
    }
    const payloadBytes = cache.words.byteLength
    if (file.length !== CACHE_FILE_HEADER_BYTES + payloadBytes) return `size ${file.length} instead of ${CACHE_FILE_HEADER_BYTES + payloadBytes}`
    const expectedHeader = fileHeader(cache.epoch, payloadBytes)
    if (!file.subarray(0, CHECKSUM_OFFSET).equals(expectedHeader.subarray(0, CHECKSUM_OFFSET))) return 'header mismatch'
    const payload = file.subarray(CACHE_FILE_HEADER_BYTES)
    const checksum = file.subarray(CHECKSUM_OFFSET, CHECKSUM_OFFSET + 32)
    if (!sha256(payload).equals(checksum)) return 'checksum mismatch'
    new Uint8Array(cache.words.buffer, cache.words.byteOffset, payloadBytes).set(payload)
    return undefined
  }

  private async writeFile (cache: LightCache): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const payload = Buffer.from(cache.words.buffer, cache.words.byteOffset, cache.words.byteLength)
    const header = fileHeader(cache.epoch, payload.length)
    sha256(payload).copy(header, CHECKSUM_OFFSET)
    const finalPath = this.fileFor(cache.epoch)
    const tempPath = `${finalPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
    try {
      const handle = await open(tempPath, 'w')
      try {
        await handle.writev([header, payload])
        await handle.datasync()
      } finally {
        await handle.close()
      }
      await rename(tempPath, finalPath)
    } catch (err) {
      await unlink(tempPath).catch(() => {})
      throw err
    }
  }
}

/** Magic, version, epoch and payload length, with room for the checksum; the rest stays zero. */
function fileHeader (epoch: number, payloadBytes: number): Buffer {
  const header = Buffer.alloc(CACHE_FILE_HEADER_BYTES)
  header.write(CACHE_FILE_MAGIC, 0, 'latin1')
  header.writeUInt32LE(CACHE_FILE_VERSION, 8)
  header.writeUInt32LE(epoch, 12)
  header.writeUInt32LE(payloadBytes, 16)
  return header
}

function sha256 (data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest()
}

function asError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}

function buildOnWorker (cache: LightCache): Promise<void> {
  const request: CacheBuildRequest = { epoch: cache.epoch, words: cache.words }
  const worker = new Worker(new URL('./cache-build-worker.js', import.meta.url), { workerData: request })
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve())
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`cache build worker exited with code ${code}`)))
  })
}
