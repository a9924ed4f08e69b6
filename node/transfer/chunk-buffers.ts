/**
 * Chunk-sized buffers handed out to requests and taken back once their chunk is stored or
 * dropped. A download then allocates as many buffers as it ever has chunks in flight, instead
 * of a fresh MiB per chunk that lingers as external memory until the next garbage collection.
 */
export class ChunkBufferPool {
  private readonly free: Buffer[] = []

  constructor (private readonly chunkSize: number) {}

  /** A buffer of the chunk size, not zeroed. */
  acquire (): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize)
  }

  /** Takes back a buffer from `acquire`; whoever held it must not touch it afterwards. */
  release (buffer: Buffer): void {
    this.free.push(buffer)
  }
}
