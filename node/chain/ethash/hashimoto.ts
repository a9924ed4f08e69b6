/**
 * Light-mode ethash: the verification cache and hashimoto computed from it, one dataset item at a
 * time. Everything works on uint32 words and module-level scratch buffers, so hashing allocates
 * nothing; callers on one thread must copy results before the next call (hashimotoLight does).
 */
import {
  ACCESSES, CACHE_ROUNDS, DATASET_PARENTS, FNV_PRIME, HASH_WORDS, KECCAK256_RATE_WORDS, KECCAK512_RATE_WORDS,
  MIX_BYTES, MIX_HASH_BYTES, MIX_WORDS, NONCE_BYTES, SEAL_HASH_BYTES, WORD_BYTES
} from './constants.js'
import { keccakWords } from './keccak.js'

const SEAL_WORDS = SEAL_HASH_BYTES / WORD_BYTES
const OUT_WORDS = MIX_HASH_BYTES / WORD_BYTES

function keccak512 (input: Uint32Array, inOffset: number, inWords: number, output: Uint32Array, outOffset: number): void {
  keccakWords(KECCAK512_RATE_WORDS, input, inOffset, inWords, output, outOffset, HASH_WORDS)
}

/** Little-endian bytes to words; ethash reads every hash as little-endian uint32s. */
export function bytesToWords (bytes: Uint8Array, out = new Uint32Array(bytes.length / WORD_BYTES)): Uint32Array {
  for (let i = 0; i < out.length; i++) {
    out[i] = (bytes[4 * i]! | (bytes[4 * i + 1]! << 8) | (bytes[4 * i + 2]! << 16) | (bytes[4 * i + 3]! << 24)) >>> 0
  }
  return out
}

export function wordsToBytes (words: Uint32Array): Uint8Array {
  const out = new Uint8Array(words.length * WORD_BYTES)
  for (let i = 0; i < out.length; i++) out[i] = (words[i >> 2]! >>> ((i & 3) * 8)) & 0xff
  return out
}

/** Fills `words` (cacheSize / 4 of them) with the light cache for `seed` (RandMemoHash, CACHE_ROUNDS rounds). */
export function fillLightCache (words: Uint32Array, seed: Uint8Array): void {
  const items = (words.length / HASH_WORDS) >>> 0
  keccak512(bytesToWords(seed), 0, seed.length / WORD_BYTES, words, 0)
  for (let i = 1; i < items; i++) keccak512(words, (i - 1) * HASH_WORDS, HASH_WORDS, words, i * HASH_WORDS)
  const mixed = new Uint32Array(HASH_WORDS)
  for (let round = 0; round < CACHE_ROUNDS; round++) {
    for (let i = 0; i < items; i++) {
      const at = i * HASH_WORDS
      const other = (words[at]! % items) * HASH_WORDS
      const previous = ((i + items - 1) % items) * HASH_WORDS
      for (let k = 0; k < HASH_WORDS; k++) mixed[k] = words[previous + k]! ^ words[other + k]!
      keccak512(mixed, 0, HASH_WORDS, words, at)
    }
  }
}

const item = new Uint32Array(HASH_WORDS)

/** Dataset item `index` computed from the cache, written as 16 words at `out[outOffset]`. */
function datasetItem (cache: Uint32Array, items: number, index: number, out: Uint32Array, outOffset: number): void {
  const base = (index % items) * HASH_WORDS
  for (let k = 0; k < HASH_WORDS; k++) item[k] = cache[base + k]!
  item[0] = item[0]! ^ index
  keccak512(item, 0, HASH_WORDS, item, 0)
  for (let j = 0; j < DATASET_PARENTS; j++) {
    const parent = (((Math.imul(index ^ j, FNV_PRIME) ^ item[j & 15]!) >>> 0) % items) * HASH_WORDS
    for (let k = 0; k < HASH_WORDS; k++) item[k] = Math.imul(item[k]!, FNV_PRIME) ^ cache[parent + k]!
  }
  keccak512(item, 0, HASH_WORDS, out, outOffset)
}

const seedInput = new Uint32Array(SEAL_WORDS + 2)
const seedWords = new Uint32Array(HASH_WORDS)
const mix = new Uint32Array(MIX_WORDS)
const page = new Uint32Array(MIX_WORDS)
/** seedWords followed by the compressed mix: the input of the final keccak256. */
const finalInput = new Uint32Array(HASH_WORDS + OUT_WORDS)

/** Hashimoto outputs as words, in scratch buffers overwritten by the next call. */
export interface HashimotoWords {
  readonly mixHash: Uint32Array
  readonly result: Uint32Array
}
const outputs: HashimotoWords = { mixHash: finalInput.subarray(HASH_WORDS), result: new Uint32Array(OUT_WORDS) }

/**
 * Hashimoto over the virtual dataset of `fullSize` bytes. The nonce is the header's 64-bit value
 * split into high and low words; ethash feeds it little-endian, hence low word first.
 */
export function hashimotoLightWords (
  cache: Uint32Array, fullSize: number, sealHashWords: Uint32Array, nonceHigh: number, nonceLow: number
): HashimotoWords {
  // Integer-typed counts let V8 use integer modulo instead of a floating-point fmod call.
  const items = (cache.length / HASH_WORDS) >>> 0
  const pages = (fullSize / MIX_BYTES) >>> 0
  seedInput.set(sealHashWords)
  seedInput[SEAL_WORDS] = nonceLow
  seedInput[SEAL_WORDS + 1] = nonceHigh
  keccak512(seedInput, 0, seedInput.length, seedWords, 0)
  mix.set(seedWords, 0)
  mix.set(seedWords, HASH_WORDS)
  const first = seedWords[0]!
  for (let i = 0; i < ACCESSES; i++) {
    const p = (((Math.imul(i ^ first, FNV_PRIME) ^ mix[i % MIX_WORDS]!) >>> 0) % pages) * 2
    datasetItem(cache, items, p, page, 0)
    datasetItem(cache, items, p + 1, page, HASH_WORDS)
    for (let k = 0; k < MIX_WORDS; k++) mix[k] = Math.imul(mix[k]!, FNV_PRIME) ^ page[k]!
  }
  finalInput.set(seedWords, 0)
  for (let w = 0; w < OUT_WORDS; w++) {
    let folded = mix[4 * w]!
    for (let k = 1; k < 4; k++) folded = Math.imul(folded, FNV_PRIME) ^ mix[4 * w + k]!
    finalInput[HASH_WORDS + w] = folded
  }
  keccakWords(KECCAK256_RATE_WORDS, finalInput, 0, finalInput.length, outputs.result, 0, OUT_WORDS)
  return outputs
}

export interface HashimotoResult {
  /** Goes in the header's mixHash field. */
  readonly mixHash: Uint8Array
  /** Compared, as a big-endian number, against 2^256 / difficulty. */
  readonly result: Uint8Array
}

/** Hashimoto for one 32-byte seal hash and 8-byte big-endian header nonce. */
export function hashimotoLight (cache: Uint32Array, fullSize: number, sealHash: Uint8Array, nonce: Uint8Array): HashimotoResult {
  if (sealHash.length !== SEAL_HASH_BYTES || nonce.length !== NONCE_BYTES) {
    throw new RangeError(`hashimoto needs a ${SEAL_HASH_BYTES}-byte seal hash and a ${NONCE_BYTES}-byte nonce`)
  }
  const view = new DataView(nonce.buffer, nonce.byteOffset, nonce.byteLength)
  const out = hashimotoLightWords(cache, fullSize, bytesToWords(sealHash), view.getUint32(0), view.getUint32(4))
  return { mixHash: wordsToBytes(out.mixHash), result: wordsToBytes(out.result) }
}
