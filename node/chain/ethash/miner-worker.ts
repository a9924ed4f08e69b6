/**
 * Mining thread: holds the epoch's light cache (shared memory, sent once per epoch) and searches
 * nonces upward from the job's start until it finds one under the target or the pool moves the
 * shared generation counter on (new job, abort, or resize), which it checks after every hash.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { NONCE_BYTES } from './constants.js'
import { bytesToWords, hashimotoLightWords, wordsToBytes } from './hashimoto.js'
import { meetsTarget } from './target.js'

export interface MinerWorkerInit {
  /** Word 0: generation of the job workers should be running. */
  readonly control: Int32Array
  /** Word 0: hashes done since the pool last collected them. */
  readonly counter: Int32Array
}

export type MinerWorkerRequest =
  | { readonly kind: 'cache', readonly epoch: number, readonly words: Uint32Array, readonly fullSize: number }
  | {
    readonly kind: 'job'
    readonly generation: number
    readonly epoch: number
    readonly sealHash: Uint8Array
    readonly target: Uint32Array
    readonly startNonce: bigint
  }

export interface MinerWorkerSolution {
  readonly generation: number
  readonly nonce: Uint8Array
  readonly mixHash: Uint8Array
}

type JobRequest = Extract<MinerWorkerRequest, { kind: 'job' }>
type CacheRequest = Extract<MinerWorkerRequest, { kind: 'cache' }>

const { control, counter } = workerData as MinerWorkerInit
let cache: CacheRequest | undefined

function nonceBytes (high: number, low: number): Uint8Array {
  const nonce = new Uint8Array(NONCE_BYTES)
  const view = new DataView(nonce.buffer)
  view.setUint32(0, high)
  view.setUint32(4, low)
  return nonce
}

function search (job: JobRequest, current: CacheRequest): MinerWorkerSolution | undefined {
  const sealWords = bytesToWords(job.sealHash)
  let high = Number(job.startNonce >> 32n)
  let low = Number(job.startNonce & 0xffffffffn)
  while (Atomics.load(control, 0) === job.generation) {
    const out = hashimotoLightWords(current.words, current.fullSize, sealWords, high, low)
    Atomics.add(counter, 0, 1)
    if (meetsTarget(out.result, job.target)) {
      return { generation: job.generation, nonce: nonceBytes(high, low), mixHash: wordsToBytes(out.mixHash) }
    }
    low = (low + 1) >>> 0
    if (low === 0) high = (high + 1) >>> 0
  }
  return undefined
}

parentPort?.on('message', (request: MinerWorkerRequest) => {
  if (request.kind === 'cache') {
    cache = request
    return
  }
  if (cache?.epoch !== request.epoch) throw new Error(`job for epoch ${request.epoch} but cache is for ${cache?.epoch}`)
  const solution = search(request, cache)
  if (solution !== undefined) parentPort?.postMessage(solution)
})
