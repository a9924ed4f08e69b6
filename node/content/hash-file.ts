import { open, type FileHandle } from 'node:fs/promises'
import { FileChangedError } from '../util/errors.js'
import { EMPTY_FILE_DIGEST, HASH_LENGTH, chunkCount } from './manifest.js'
import { sha256Step } from './sha256-chain.js'

export interface FileDigests {
  /** SHA-256 of the whole file. */
  digest: Uint8Array
  /** The manifest's chunk states: the whole-file SHA-256 state after each chunk. */
  chunkStates: Uint8Array
}

/**
 * Reads the file once, chunk by chunk, and runs SHA-256 over it on the thread pool while the
 * next chunk is being read; the state after each chunk is recorded on the way, so the content id
 * and the manifest cost one hash pass, about what `sha256sum` costs.
 */
export async function hashFile (path: string, size: number, chunkSize: number, onBytes?: (bytes: number) => void): Promise<FileDigests> {
  const count = chunkCount(size, chunkSize)
  const chunkStates = new Uint8Array(count * HASH_LENGTH)
  const handle = await open(path, 'r')
  try {
    const buffers = [Buffer.allocUnsafe(Math.min(chunkSize, size)), Buffer.allocUnsafe(Math.min(chunkSize, size))]
    const read = async (index: number): Promise<Buffer> => await readChunk(handle, path, buffers[index % 2] as Buffer, index * chunkSize, Math.min(chunkSize, size - index * chunkSize))
    let state: Buffer | null = null
    let next = count > 0 ? read(0) : undefined
    for (let index = 0; index < count; index++) {
      const bytes = await (next as Promise<Buffer>)
      next = index + 1 < count ? read(index + 1) : undefined
      state = await sha256Step(state, bytes, index * chunkSize, index === count - 1)
      chunkStates.set(state, index * HASH_LENGTH)
      onBytes?.(index * chunkSize + bytes.length)
    }
    return { digest: state ?? EMPTY_FILE_DIGEST, chunkStates }
  } finally {
    await handle.close()
  }
}

async function readChunk (handle: FileHandle, path: string, buffer: Buffer, position: number, length: number): Promise<Buffer> {
  for (let filled = 0; filled < length;) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled)
    if (bytesRead === 0) throw new FileChangedError(path, 'while it was being added')
    filled += bytesRead
  }
  return buffer.subarray(0, length)
}
