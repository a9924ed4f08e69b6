import { Worker } from 'node:worker_threads'
import type { Manifest } from '../content/manifest.js'

/**
 * Computes the whole-file SHA-256 while a download runs, on a worker thread: it is told which
 * chunks have been written and hashes them in order, so checking the finished file against its
 * content id needs no extra pass and no time on the thread that moves bytes.
 */
export class SequentialHasher {
  private readonly worker: Worker
  private readonly result: Promise<Buffer>

  constructor (path: string, manifest: Manifest, written: Set<number>) {
    this.worker = new Worker(new URL('./sequential-hash-worker.js', import.meta.url), {
      workerData: { path, size: manifest.size, chunkSize: manifest.chunkSize, written: [...written] }
    })
    this.result = new Promise<Buffer>((resolve, reject) => {
      this.worker.once('message', (message: { digest?: Uint8Array, error?: string }) => {
        if (message.digest != null) resolve(Buffer.from(message.digest))
        else reject(new Error(message.error ?? 'whole-file hashing failed'))
      })
      this.worker.once('error', reject)
    })
    this.result.catch(() => {})
  }

  chunkWritten (index: number): void {
    this.worker.postMessage({ written: index })
  }

  async digest (): Promise<Buffer> {
    this.worker.postMessage({ finish: true })
    return await this.result
  }

  async close (): Promise<void> {
    await this.worker.terminate()
  }
}
