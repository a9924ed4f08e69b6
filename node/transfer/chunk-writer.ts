import { Worker } from 'node:worker_threads'
import type { Manifest } from '../content/manifest.js'
import { DiskFullError } from '../util/errors.js'
import type { WriterJob, WriterReply, WriterRequest } from './chunk-writer-worker.js'

/**
 * Writes a download's verified chunks into its partial file on a worker thread, so the copies
 * into the page cache never hold up the thread that receives bytes. Chunks in shared memory
 * (the scheduler's buffers) are read by the worker in place; others are copied once.
 */
export class ChunkWriter {
  private readonly worker: Worker
  private readonly writes = new Map<number, { resolve: () => void, reject: (err: Error) => void }>()
  private readonly finished: Promise<void>
  private failed?: Error

  constructor (private readonly path: string, manifest: Pick<Manifest, 'chunkSize'>) {
    const job: WriterJob = { path, chunkSize: manifest.chunkSize }
    this.worker = new Worker(new URL('./chunk-writer-worker.js', import.meta.url), { workerData: job })
    this.finished = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (reply: WriterReply) => {
        if ('written' in reply) this.settle(reply.written)
        else if ('index' in reply) this.settle(reply.index, this.error(reply.error))
        else if ('finished' in reply) resolve()
        else reject(this.error(reply.error))
      })
      this.worker.once('error', err => { this.fail(err); reject(err) })
      this.worker.once('exit', () => { this.fail(new Error('chunk writer stopped')) })
    })
    this.finished.catch(() => {})
  }

  /** Resolves once chunk `index` is in the file (not yet fsynced); `bytes` must stay untouched until then. */
  async write (index: number, bytes: Uint8Array): Promise<void> {
    if (this.failed != null) throw this.failed
    if (this.writes.has(index)) throw new Error(`chunk ${index} is already being written`)
    const written = new Promise<void>((resolve, reject) => { this.writes.set(index, { resolve, reject }) })
    this.worker.postMessage({ index, bytes } satisfies WriterRequest)
    await written
  }

  /** Closes the worker's file descriptor once every write before it is done. */
  async finish (): Promise<void> {
    this.worker.postMessage({ finish: true } satisfies WriterRequest)
    await this.finished
  }

  async close (): Promise<void> {
    await this.worker.terminate()
  }

  private settle (index: number, err?: Error): void {
    const pending = this.writes.get(index)
    this.writes.delete(index)
    if (err == null) pending?.resolve()
    else pending?.reject(err)
  }

  private fail (err: Error): void {
    this.failed ??= err
    for (const index of [...this.writes.keys()]) this.settle(index, err)
  }

  private error ({ code, message }: { code?: string, message: string }): Error {
    if (code === 'ENOSPC') return new DiskFullError(this.path, 'no space left on device')
    return Object.assign(new Error(message), { code })
  }
}
