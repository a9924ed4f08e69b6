import { parentPort, workerData } from 'node:worker_threads'
import { hashFileChunks } from './chunk-hashes.js'

interface ChunkHashJob { path: string, size: number, chunkSize: number }

const job = workerData as ChunkHashJob
hashFileChunks(job.path, job.size, job.chunkSize).then(
  hashes => { parentPort?.postMessage({ hashes }, [hashes.buffer as ArrayBuffer]) },
  (err: Error) => { parentPort?.postMessage({ error: err.message }) }
)
