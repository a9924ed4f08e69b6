import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { hashFileChunks, type FileDigests } from './chunk-hashes.js'

/** Below this size a worker thread costs more than it saves. */
const WORKER_THRESHOLD_BYTES = 16 * 1024 * 1024

/**
 * Computes the whole-file SHA-256 and the per-chunk SHA-256s in one pass of wall time: the
 * chunk hashes run on a worker thread reading the same (page-cached) file while this thread
 * hashes the whole, so adding costs about what `sha256sum` costs.
 */
export async function hashFile (path: string, size: number, chunkSize: number, onBytes?: (bytes: number) => void): Promise<FileDigests> {
  const whole = createHash('sha256')
  if (size < WORKER_THRESHOLD_BYTES) {
    const chunkHashes = await hashFileChunks(path, size, chunkSize, { wholeFile: whole, onBytes })
    return { digest: whole.digest(), chunkHashes }
  }
  const worker = new Worker(new URL('./chunk-hash-worker.js', import.meta.url), { workerData: { path, size, chunkSize } })
  const chunkHashesPromise = new Promise<Uint8Array>((resolve, reject) => {
    worker.once('message', (message: { hashes?: Uint8Array, error?: string }) => {
      if (message.hashes != null) resolve(message.hashes)
      else reject(new Error(message.error ?? 'chunk hashing failed'))
    })
    worker.once('error', reject)
  })
  try {
    await streamWholeHash(path, size, whole, onBytes)
    const chunkHashes = await chunkHashesPromise
    return { digest: whole.digest(), chunkHashes }
  } finally {
    await worker.terminate()
  }
}

async function streamWholeHash (path: string, size: number, whole: Hash, onBytes?: (bytes: number) => void): Promise<void> {
  let total = 0
  for await (const piece of createReadStream(path, { highWaterMark: 4 * 1024 * 1024, end: size - 1 }) as AsyncIterable<Buffer>) {
    whole.update(piece)
    total += piece.length
    onBytes?.(total)
  }
}
