import { createHash } from 'node:crypto'
import { closeSync, openSync, readSync, writeSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'

export interface WriterJob { path: string, size: number, chunkSize: number, written: number[] }
export type WriterRequest = { index: number, bytes: Uint8Array } | { finish: true }
export type WriterReply =
  | { written: number }
  | { index: number, error: { code?: string, message: string } }
  | { digest: Uint8Array }
  | { error: { code?: string, message: string } }

/**
 * Pieces of this size: the kernel sizes page-cache folios by the write, and on this VM large
 * folios come from memory the host has reclaimed, so 1 MiB writes cost ~2 s of system time per
 * GiB against ~0.4 s for 16 KiB ones, which reuse the small pages the network just freed.
 * (curl writes 16 KiB at a time too.)
 */
const WRITE_PIECE_BYTES = 16 * 1024

/**
 * Writes verified chunks into the partial file and hashes the whole file in chunk order, off
 * the thread that moves bytes. A chunk that lands at the hashing frontier is hashed from memory
 * before its buffer is handed back; one that arrives early is read back from the page cache
 * once the frontier reaches it.
 */
const job = workerData as WriterJob
const total = Math.ceil(job.size / job.chunkSize)
const fd = openSync(job.path, 'r+')
const hash = createHash('sha256')
/** Written (or verified before a restart) but not hashed yet. */
const pending = new Set(job.written)
const readBack = Buffer.allocUnsafe(job.chunkSize)
let frontier = 0

function chunkLength (index: number): number {
  return Math.min(job.chunkSize, job.size - index * job.chunkSize)
}

function write (index: number, bytes: Uint8Array): void {
  const position = index * job.chunkSize
  for (let offset = 0; offset < bytes.length;) {
    offset += writeSync(fd, bytes, offset, Math.min(WRITE_PIECE_BYTES, bytes.length - offset), position + offset)
  }
}

function advance (): void {
  while (pending.delete(frontier)) {
    const length = chunkLength(frontier)
    if (readSync(fd, readBack, 0, length, frontier * job.chunkSize) !== length) throw new Error(`short read of chunk ${frontier}`)
    hash.update(readBack.subarray(0, length))
    frontier++
  }
}

function failure (err: unknown): { code?: string, message: string } {
  return { code: (err as NodeJS.ErrnoException).code, message: (err as Error).message }
}

function reply (message: WriterReply): void {
  parentPort?.postMessage(message)
}

parentPort?.on('message', (request: WriterRequest) => {
  if ('finish' in request) {
    try {
      advance()
      closeSync(fd)
      reply(frontier === total ? { digest: hash.digest() } : { error: { message: `only ${frontier} of ${total} chunks were written` } })
    } catch (err) {
      reply({ error: failure(err) })
    }
    return
  }
  const { index, bytes } = request
  try {
    write(index, bytes)
    if (index === frontier) {
      hash.update(bytes)
      frontier++
    } else {
      pending.add(index)
    }
    advance()
    reply({ written: index })
  } catch (err) {
    reply({ index, error: failure(err) })
  }
})
