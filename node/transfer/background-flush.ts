import type { FileHandle } from 'node:fs/promises'

/** Bytes written since the last flush after which the next background flush starts. */
const FLUSH_EVERY_BYTES = 16 * 1024 * 1024

/**
 * Flushes a file to disk while it is still being written, one fdatasync at a time, so the fsync
 * that makes a finished download durable has only the last few MiB left to flush: page-cached
 * writes (file systems without direct I/O) and the disk's own write cache behind direct I/O.
 */
export class BackgroundFlush {
  private unflushed = 0
  private flushing?: Promise<void>
  /** Kept for `sync`: the kernel reports a write-back error to a file description only once. */
  private failure?: unknown

  constructor (private readonly handle: FileHandle) {}

  written (bytes: number): void {
    this.unflushed += bytes
    if (this.unflushed < FLUSH_EVERY_BYTES || this.flushing != null || this.failure != null) return
    this.unflushed = 0
    this.flushing = this.handle.datasync().catch((err: unknown) => { this.failure = err }).finally(() => { this.flushing = undefined })
  }

  /** Makes everything written durable, or throws what any flush ran into. */
  async sync (): Promise<void> {
    await this.settle()
    if (this.failure != null) throw this.failure
    await this.handle.sync()
  }

  /** Waits for a background flush still running, so the handle can be closed. */
  async settle (): Promise<void> {
    await this.flushing
  }
}
