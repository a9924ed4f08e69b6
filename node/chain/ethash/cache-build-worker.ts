/** Worker entry: fills a shared light-cache buffer so a multi-second build never blocks the node's event loop. */
import { parentPort, workerData } from 'node:worker_threads'
import { seedHash } from './epoch.js'
import { fillLightCache } from './hashimoto.js'

export interface CacheBuildRequest {
  readonly epoch: number
  readonly words: Uint32Array
}

const { epoch, words } = workerData as CacheBuildRequest
fillLightCache(words, seedHash(epoch))
parentPort?.postMessage('done')
