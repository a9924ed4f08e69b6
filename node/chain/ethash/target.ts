/** The proof-of-work target: a valid result, read as a big-endian number, is at most 2^256 / difficulty. */
import { RESULT_BYTES, WORD_BYTES } from './constants.js'

const TWO_POW_256 = 1n << 256n
const MAX_RESULT = TWO_POW_256 - 1n

export function powTarget (difficulty: bigint): bigint {
  if (difficulty <= 0n) throw new RangeError(`difficulty must be positive, got ${difficulty}`)
  return TWO_POW_256 / difficulty
}

/**
 * The target as eight big-endian uint32s for the miner's allocation-free comparison. Difficulty 1
 * gives 2^256, which no 256-bit result can exceed, so it is clamped to the largest result.
 */
export function targetWords (difficulty: bigint): Uint32Array {
  let target = powTarget(difficulty)
  if (target > MAX_RESULT) target = MAX_RESULT
  const words = new Uint32Array(RESULT_BYTES / WORD_BYTES)
  for (let i = words.length - 1; i >= 0; i--) {
    words[i] = Number(target & 0xffffffffn)
    target >>= 32n
  }
  return words
}

function byteSwap (word: number): number {
  return (((word & 0xff) << 24) | ((word & 0xff00) << 8) | ((word >>> 8) & 0xff00) | (word >>> 24)) >>> 0
}

/** `resultWords` are hashimoto's little-endian result words; `target` comes from targetWords. */
export function meetsTarget (resultWords: Uint32Array, target: Uint32Array): boolean {
  for (let i = 0; i < target.length; i++) {
    const word = byteSwap(resultWords[i]!)
    if (word !== target[i]) return word < target[i]!
  }
  return true
}
