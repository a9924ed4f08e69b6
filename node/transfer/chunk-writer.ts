import type { FileHandle } from 'node:fs/promises'
import { native } from '../native/index.js'
import { DiskFullError } from '../util/errors.js'

/** See node/native/write-pieces.c: small writes are far cheaper in the page cache here. */
const WRITE_PIECE_BYTES = 16 * 1024

/**
 * Writes a download's verified chunks into its partial file on the thread pool, in small
 * pieces, so the copies into the page cache never hold up the thread that receives bytes.
 */
export class ChunkWriter {
  private readonly pending = new Set<Promise<void>>()

  constructor (private readonly path: string, private readonly handle: FileHandle, private readonly chunkSize: number) {}

  /** Resolves once chunk `index` is in the file (not yet fsynced); `bytes` must stay untouched until then. */
  async write (index: number, bytes: Uint8Array): Promise<void> {
    const written = native.writePieces(this.handle.fd, bytes, index * this.chunkSize, WRITE_PIECE_BYTES)
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
   * Waits for writes still running (a stopped download's), so the handle can be closed: its
   * descriptor number could otherwise be reused by another file while a write still targets it.
   */
  async drain (): Promise<void> {
    await Promise.allSettled([...this.pending])
  }
}
