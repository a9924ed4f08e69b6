import { closeSync, openSync, writeSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'

export interface WriterJob { path: string, chunkSize: number }
export type WriterRequest = { index: number, bytes: Uint8Array } | { finish: true }
export type WriterReply =
  | { written: number }
  | { index: number, error: { code?: string, message: string } }
  | { finished: true }
  | { error: { code?: string, message: string } }

/**
 * Pieces of this size: the kernel sizes page-cache folios by the write, and on this VM large
 * folios come from memory the host has reclaimed, so 1 MiB writes cost ~2 s of system time per
 * GiB against ~0.4 s for 16 KiB ones, which reuse the small pages the network just freed.
 * (curl writes 16 KiB at a time too.)
 */
const WRITE_PIECE_BYTES = 16 * 1024

/** Writes verified chunks into the partial file, off the thread that moves bytes. */
const job = workerData as WriterJob
const fd = openSync(job.path, 'r+')

function write (index: number, bytes: Uint8Array): void {
  const position = index * job.chunkSize
  for (let offset = 0; offset < bytes.length;) {
    offset += writeSync(fd, bytes, offset, Math.min(WRITE_PIECE_BYTES, bytes.length - offset), position + offset)
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
      closeSync(fd)
      reply({ finished: true })
    } catch (err) {
      reply({ error: failure(err) })
    }
    return
  }
  const { index, bytes } = request
  try {
    write(index, bytes)
    reply({ written: index })
  } catch (err) {
    reply({ index, error: failure(err) })
  }
})
