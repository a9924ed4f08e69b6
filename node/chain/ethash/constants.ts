/**
 * Ethash parameters (Ethereum yellow paper, appendix J) and the constants this module adds around
 * them. Sizes are in bytes unless the name says words; a word is a little-endian uint32.
 */

export const WORD_BYTES = 4
/** One cache or dataset item: a keccak-512 output. */
export const HASH_BYTES = 64
export const HASH_WORDS = HASH_BYTES / WORD_BYTES
/** The hashimoto mix: two dataset items. */
export const MIX_BYTES = 128
export const MIX_WORDS = MIX_BYTES / WORD_BYTES
export const DATASET_PARENTS = 256
export const CACHE_ROUNDS = 3
/** Dataset page reads per hash. */
export const ACCESSES = 64
export const EPOCH_LENGTH = 30_000
export const CACHE_BYTES_INIT = 2 ** 24
export const CACHE_BYTES_GROWTH = 2 ** 17
export const DATASET_BYTES_INIT = 2 ** 30
export const DATASET_BYTES_GROWTH = 2 ** 23
export const FNV_PRIME = 0x01000193

/** Sizes of the sealed header fields and of the hashimoto outputs. */
export const SEAL_HASH_BYTES = 32
export const NONCE_BYTES = 8
export const MIX_HASH_BYTES = 32
export const RESULT_BYTES = 32

/** Positions of the seal fields in `BlockHeader.raw()`; the seal hash leaves out exactly these two. */
export const MIX_HASH_FIELD = 13
export const NONCE_FIELD = 14

/** Keccak sponge rates (in 32-bit words) for the two output lengths ethash uses. */
export const KECCAK256_RATE_WORDS = 136 / WORD_BYTES
export const KECCAK512_RATE_WORDS = 72 / WORD_BYTES

/** Binary cache file layout: a fixed header (magic, version, epoch, payload length, sha256) then the cache words. */
export const CACHE_FILE_MAGIC = 'CHXETHC\n'
export const CACHE_FILE_VERSION = 1
export const CACHE_FILE_HEADER_BYTES = 64
/** Epochs kept in memory by default: the current one plus the previous or next across a boundary. */
export const DEFAULT_CACHES_IN_MEMORY = 2

/** How often the miner samples its hash counters, and the time constant of the hashrate average. */
export const HASHRATE_SAMPLE_MS = 1_000
export const HASHRATE_WINDOW_MS = 5_000
