import { native } from '../native/index.js'

/**
 * Chunk-sized buffers handed out for one read or request and taken back when it is done, so
 * moving a file allocates as many buffers as are ever in use at once, instead of a fresh MiB per
 * chunk that lingers as external memory until the next garbage collection (and, in a process
 * whose heap has settled, drives back-to-back full collections). The buffers are page-aligned,
 * which direct I/O needs to write a verified chunk to disk straight from where it was received.
 */
export class ChunkBufferPool {
  private readonly free: Buffer[] = []

  /** `maxFree`: buffers kept for reuse; more than that are left to the garbage collector. */
  constructor (readonly chunkSize: number, private readonly maxFree = Number.POSITIVE_INFINITY) {}

  /** A buffer of the chunk size. */
  acquire (): Buffer {
    return this.free.pop() ?? Buffer.from(native.alignedBuffer(this.chunkSize))
  }

  /** Takes back a buffer from `acquire`; whoever held it must not touch it afterwards. */
  release (buffer: Buffer): void {
    if (this.free.length < this.maxFree) this.free.push(buffer)
  }

  /** Lets go of the buffers kept for reuse (the garbage collector frees them); the pool stays usable. */
  clear (): void {
    this.free.length = 0
  }
}
