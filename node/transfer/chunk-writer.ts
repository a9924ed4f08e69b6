import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { native } from '../native/index.js'
import { DiskFullError } from '../util/errors.js'

/**
 * Writes a download's verified chunks into its partial file on the thread pool, with direct I/O
 * where the file system has it (see node/native/write-chunk.c), so the copies never hold up the
 * thread that receives bytes and a GiB written costs no GiB of fresh page cache.
 */
export class ChunkWriter {
  private readonly pending = new Set<Promise<void>>()

  private constructor (private readonly path: string, private readonly handle: FileHandle, private readonly direct: FileHandle | undefined, private readonly chunkSize: number) {}

  /** `handle` stays the caller's; the direct-I/O descriptor is the writer's own, closed by `close`. */
  static async open (path: string, handle: FileHandle, chunkSize: number): Promise<ChunkWriter> {
    const direct = await open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined)
    return new ChunkWriter(path, handle, direct, chunkSize)
  }

  /** Resolves once chunk `index` is in the file (not yet fsynced); `bytes` must stay untouched until then. */
  async write (index: number, bytes: Uint8Array): Promise<void> {
    const written = native.writeChunk(this.handle.fd, this.direct?.fd ?? -1, bytes, index * this.chunkSize)
    this.pending.add(written)
    try {
      await written
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw new DiskFullError(this.path, 'no space left on device')
      throw err
    } finally {
      this.pending.delete(written)
    }
  }

  /**
   * Waits for writes still running (a stopped download's), then closes the direct descriptor:
   * a descriptor number closed under a running write could be reused by another file.
   */
  async close (): Promise<void> {
    await Promise.allSettled([...this.pending])
    await this.direct?.close()
  }
}
