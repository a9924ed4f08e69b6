import { createHash, type Hash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { HASH_LENGTH, chunkCount } from './manifest.js'

export interface FileDigests {
  /** SHA-256 of the whole file. */
  digest: Uint8Array
  chunkHashes: Uint8Array
}

/** Streams [start, size) of a file once, returning the SHA-256 of each chunk and optionally of the whole. */
export async function hashFileChunks (
  path: string,
  size: number,
  chunkSize: number,
  options: { wholeFile?: Hash, onBytes?: (bytesRead: number) => void, signal?: AbortSignal } = {}
): Promise<Uint8Array> {
  const hashes = new Uint8Array(chunkCount(size, chunkSize) * HASH_LENGTH)
  let chunkHasher = createHash('sha256')
  let inChunk = 0
  let chunkIndex = 0
  let total = 0
  const stream = createReadStream(path, { highWaterMark: Math.max(chunkSize, 1024 * 1024), end: size === 0 ? 0 : size - 1, signal: options.signal })
  for await (const piece of stream as AsyncIterable<Buffer>) {
    if (size === 0) break
    options.wholeFile?.update(piece)
    let offset = 0
    while (offset < piece.length) {
      const take = Math.min(chunkSize - inChunk, piece.length - offset)
      chunkHasher.update(take === piece.length ? piece : piece.subarray(offset, offset + take))
      offset += take
      inChunk += take
      if (inChunk === chunkSize) {
        hashes.set(chunkHasher.digest(), chunkIndex * HASH_LENGTH)
        chunkIndex++
        chunkHasher = createHash('sha256')
        inChunk = 0
      }
    }
    total += piece.length
    options.onBytes?.(total)
  }
  if (inChunk > 0) hashes.set(chunkHasher.digest(), chunkIndex * HASH_LENGTH)
  return hashes
}
