/** Per-epoch ethash parameters: which epoch a block is in, cache and dataset sizes, and the seed. */
import {
  CACHE_BYTES_GROWTH, CACHE_BYTES_INIT, DATASET_BYTES_GROWTH, DATASET_BYTES_INIT, EPOCH_LENGTH, HASH_BYTES, MIX_BYTES
} from './constants.js'
import { keccak256 } from './keccak.js'

export function epochOf (blockNumber: bigint): number {
  return Number(blockNumber / BigInt(EPOCH_LENGTH))
}

/** Trial division is enough: candidates stay below 2^27 for the next few centuries of epochs. */
function isPrime (n: number): boolean {
  if (n < 2) return false
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) return false
  }
  return true
}

/** Largest size below the linear growth line whose item count is prime, so item indices spread evenly. */
function primeSizedBelow (limit: number, itemBytes: number): number {
  let size = limit - itemBytes
  while (!isPrime(size / itemBytes)) size -= 2 * itemBytes
  return size
}

export function cacheSize (epoch: number): number {
  return primeSizedBelow(CACHE_BYTES_INIT + CACHE_BYTES_GROWTH * epoch, HASH_BYTES)
}

export function fullSize (epoch: number): number {
  return primeSizedBelow(DATASET_BYTES_INIT + DATASET_BYTES_GROWTH * epoch, MIX_BYTES)
}

/** keccak256 applied `epoch` times to 32 zero bytes. */
export function seedHash (epoch: number): Uint8Array {
  let seed: Uint8Array = new Uint8Array(32)
  for (let i = 0; i < epoch; i++) seed = keccak256(seed)
  return seed
}
