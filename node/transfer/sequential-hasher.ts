import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import { chunkCount, chunkLength, type Manifest } from '../content/manifest.js'

/**
 * Computes the whole-file SHA-256 while a download runs: whenever the chunks from the cursor on
 * are in the file, it reads them back (from the page cache) in order, so checking the finished
 * file against its content id costs no extra pass at the end.
 */
export class SequentialHasher {
  private readonly hash = createHash('sha256')
  private readonly total: number
  private next = 0
  private pending = false
  private running?: Promise<void>
  private failure?: unknown

  constructor (
    private readonly handle: FileHandle,
    private readonly manifest: Manifest,
    /** Chunks verified and written to the file. */
    private readonly written: Set<number>
  ) {
    this.total = chunkCount(manifest.size, manifest.chunkSize)
  }

  advance (): void {
    this.pending = true
    if (this.running != null) return
    this.running = (async () => {
      while (this.pending) {
        this.pending = false
        await this.hashReadyChunks()
      }
    })().catch(err => { this.failure = err }).finally(() => { this.running = undefined })
  }

  async digest (): Promise<Buffer> {
    await this.running
    await this.hashReadyChunks()
    if (this.failure != null) throw this.failure
    if (this.next !== this.total) throw new Error(`only ${this.next} of ${this.total} chunks were hashed`)
    return this.hash.digest()
  }

  private async hashReadyChunks (): Promise<void> {
    const buffer = Buffer.allocUnsafe(this.manifest.chunkSize)
    while (this.next < this.total && this.written.has(this.next)) {
      const length = chunkLength(this.manifest, this.next)
      const { bytesRead } = await this.handle.read(buffer, 0, length, this.next * this.manifest.chunkSize)
      if (bytesRead !== length) throw new Error(`short read of chunk ${this.next}`)
      this.hash.update(buffer.subarray(0, length))
      this.next++
    }
  }
}
