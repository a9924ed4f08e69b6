import { createHash } from 'node:crypto'
import { open } from 'node:fs/promises'
import { parentPort, workerData } from 'node:worker_threads'

interface Job { path: string, size: number, chunkSize: number, written: number[] }
type Message = { written: number } | { finish: true }

/**
 * Hashes a partial download in chunk order as chunks land, reading them back from the page
 * cache, so the whole-file check runs on its own core while the main thread moves bytes.
 */
const job = workerData as Job
const total = Math.ceil(job.size / job.chunkSize)
const written = new Set(job.written)
const hash = createHash('sha256')
const buffer = Buffer.allocUnsafe(job.chunkSize)
const handle = await open(job.path, 'r')
let next = 0
let finishing = false
let draining = false

async function drain (): Promise<void> {
  if (draining) return
  draining = true
  try {
    while (next < total && written.has(next)) {
      const length = Math.min(job.chunkSize, job.size - next * job.chunkSize)
      const { bytesRead } = await handle.read(buffer, 0, length, next * job.chunkSize)
      if (bytesRead !== length) throw new Error(`short read of chunk ${next}`)
      hash.update(buffer.subarray(0, length))
      written.delete(next)
      next++
    }
    if (finishing) {
      await handle.close()
      parentPort?.postMessage(next === total ? { digest: hash.digest() } : { error: `only ${next} of ${total} chunks were written` })
    }
  } catch (err) {
    parentPort?.postMessage({ error: (err as Error).message })
  } finally {
    draining = false
  }
}

parentPort?.on('message', (message: Message) => {
  if ('written' in message) written.add(message.written)
  else finishing = true
  void drain()
})
void drain()
