/** The per-epoch light cache as shared between the cache store, the verifier and the miner. */
import { cacheSize, fullSize } from './epoch.js'

export interface LightCache {
  readonly epoch: number
  /** cacheSize(epoch) / 4 words, backed by a SharedArrayBuffer so mining threads can read it without copies. */
  readonly words: Uint32Array
  /** Size of the (never materialised) full dataset, which hashimoto needs for page selection. */
  readonly fullSize: number
}

/** Anything that can hand out light caches: the disk-backed store, or a plain in-memory map in tools. */
export interface LightCacheSource {
  getCache (epoch: number): Promise<LightCache>
}

export function allocateLightCache (epoch: number): LightCache {
  return { epoch, words: new Uint32Array(new SharedArrayBuffer(cacheSize(epoch))), fullSize: fullSize(epoch) }
}

