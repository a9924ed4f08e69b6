/**
 * Keccak-f[1600] on 32-bit words, with a single shared state so the hot paths of ethash (hundreds of
 * keccak calls per hash) allocate nothing. Lanes are stored as [low word, high word], which is also
 * how ethash lays out its little-endian uint32 words, so inputs and outputs need no byte conversion.
 */
import { KECCAK256_RATE_WORDS, SEAL_HASH_BYTES, WORD_BYTES } from './constants.js'

const LANES = 25
const ROUNDS = 24

const state = new Int32Array(LANES * 2)
const rotated = new Int32Array(LANES * 2)
const columns = new Int32Array(10)

/** Round constants from the LFSR of the Keccak reference (FIPS 202, algorithm 5), split into words. */
const ROUND_LO = new Int32Array(ROUNDS)
const ROUND_HI = new Int32Array(ROUNDS)
/** rho rotation amount per lane, and the lane pi moves it to. */
const RHO = new Uint8Array(LANES)
const PI_TARGET = new Uint8Array(LANES)

function lfsrBit (t: number): number {
  let r = 1
  for (let i = 0; i < t % 255; i++) {
    r <<= 1
    if (r & 0x100) r ^= 0x171
  }
  return r & 1
}

function initTables (): void {
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j <= 6; j++) {
      if (lfsrBit(j + 7 * round) === 0) continue
      const bit = 2 ** j - 1
      if (bit < 32) ROUND_LO[round] = ROUND_LO[round]! | (1 << bit)
      else ROUND_HI[round] = ROUND_HI[round]! | (1 << (bit - 32))
    }
  }
  let x = 1
  let y = 0
  for (let t = 0; t < 24; t++) {
    RHO[x + 5 * y] = (((t + 1) * (t + 2)) / 2) % 64
    ;[x, y] = [y, (2 * x + 3 * y) % 5]
  }
  for (let lx = 0; lx < 5; lx++) {
    for (let ly = 0; ly < 5; ly++) PI_TARGET[lx + 5 * ly] = ly + 5 * ((2 * lx + 3 * ly) % 5)
  }
}
initTables()

/**
 * rho and pi as table lookups: per lane (lane 0 never moves) the word read as the low half, the word
 * read as the high half (swapped when rho rotates by more than 32 bits), the remaining rotation
 * below 32, and the word index pi moves the lane to.
 */
const LOW_FROM = new Uint8Array(LANES)
const HIGH_FROM = new Uint8Array(LANES)
const ROTATE_BY = new Uint8Array(LANES)
const MOVE_TO = new Uint8Array(LANES)
for (let lane = 1; lane < LANES; lane++) {
  const swap = RHO[lane]! > 32 ? 1 : 0
  LOW_FROM[lane] = 2 * lane + swap
  HIGH_FROM[lane] = 2 * lane + 1 - swap
  ROTATE_BY[lane] = RHO[lane]! % 32
  MOVE_TO[lane] = 2 * PI_TARGET[lane]!
}

function permute (): void {
  const s = state
  const b = rotated
  for (let round = 0; round < ROUNDS; round++) {
    const c0 = s[0]! ^ s[10]! ^ s[20]! ^ s[30]! ^ s[40]!
    const c1 = s[1]! ^ s[11]! ^ s[21]! ^ s[31]! ^ s[41]!
    const c2 = s[2]! ^ s[12]! ^ s[22]! ^ s[32]! ^ s[42]!
    const c3 = s[3]! ^ s[13]! ^ s[23]! ^ s[33]! ^ s[43]!
    const c4 = s[4]! ^ s[14]! ^ s[24]! ^ s[34]! ^ s[44]!
    const c5 = s[5]! ^ s[15]! ^ s[25]! ^ s[35]! ^ s[45]!
    const c6 = s[6]! ^ s[16]! ^ s[26]! ^ s[36]! ^ s[46]!
    const c7 = s[7]! ^ s[17]! ^ s[27]! ^ s[37]! ^ s[47]!
    const c8 = s[8]! ^ s[18]! ^ s[28]! ^ s[38]! ^ s[48]!
    const c9 = s[9]! ^ s[19]! ^ s[29]! ^ s[39]! ^ s[49]!
    // theta: column x takes column x-1 and column x+1 rotated left by one bit
    columns[0] = c8 ^ ((c2 << 1) | (c3 >>> 31))
    columns[1] = c9 ^ ((c3 << 1) | (c2 >>> 31))
    columns[2] = c0 ^ ((c4 << 1) | (c5 >>> 31))
    columns[3] = c1 ^ ((c5 << 1) | (c4 >>> 31))
    columns[4] = c2 ^ ((c6 << 1) | (c7 >>> 31))
    columns[5] = c3 ^ ((c7 << 1) | (c6 >>> 31))
    columns[6] = c4 ^ ((c8 << 1) | (c9 >>> 31))
    columns[7] = c5 ^ ((c9 << 1) | (c8 >>> 31))
    columns[8] = c6 ^ ((c0 << 1) | (c1 >>> 31))
    columns[9] = c7 ^ ((c1 << 1) | (c0 >>> 31))
    for (let y = 0; y < 50; y += 10) {
      for (let x = 0; x < 10; x++) s[y + x] = s[y + x]! ^ columns[x]!
    }
    // rho and pi
    b[0] = s[0]!
    b[1] = s[1]!
    for (let lane = 1; lane < LANES; lane++) {
      const lo = s[LOW_FROM[lane]!]!
      const hi = s[HIGH_FROM[lane]!]!
      const n = ROTATE_BY[lane]!
      const to = MOVE_TO[lane]!
      b[to] = (lo << n) | (hi >>> (32 - n))
      b[to + 1] = (hi << n) | (lo >>> (32 - n))
    }
    // chi, row by row
    for (let y = 0; y < 50; y += 10) {
      const b0 = b[y]!
      const b1 = b[y + 1]!
      const b2 = b[y + 2]!
      const b3 = b[y + 3]!
      const b4 = b[y + 4]!
      const b5 = b[y + 5]!
      const b6 = b[y + 6]!
      const b7 = b[y + 7]!
      const b8 = b[y + 8]!
      const b9 = b[y + 9]!
      s[y] = b0 ^ (~b2 & b4)
      s[y + 1] = b1 ^ (~b3 & b5)
      s[y + 2] = b2 ^ (~b4 & b6)
      s[y + 3] = b3 ^ (~b5 & b7)
      s[y + 4] = b4 ^ (~b6 & b8)
      s[y + 5] = b5 ^ (~b7 & b9)
      s[y + 6] = b6 ^ (~b8 & b0)
      s[y + 7] = b7 ^ (~b9 & b1)
      s[y + 8] = b8 ^ (~b0 & b2)
      s[y + 9] = b9 ^ (~b1 & b3)
    }
    s[0] = s[0]! ^ ROUND_LO[round]!
    s[1] = s[1]! ^ ROUND_HI[round]!
  }
}

/**
 * Hashes a message that fits in one sponge block (`inWords < rateWords`) given as words, writing
 * `outWords` words. Input and output may overlap because the state sits in between.
 */
export function keccakWords (
  rateWords: number,
  input: Uint32Array, inOffset: number, inWords: number,
  output: Uint32Array, outOffset: number, outWords: number
): void {
  state.fill(0)
  for (let i = 0; i < inWords; i++) state[i] = input[inOffset + i]!
  state[inWords] = state[inWords]! ^ 0x01
  state[rateWords - 1] = state[rateWords - 1]! ^ 0x80000000
  permute()
  for (let i = 0; i < outWords; i++) output[outOffset + i] = state[i]!
}

/** keccak256 of arbitrary bytes (header RLP, seeds); not on the hashing hot path. */
export function keccak256 (data: Uint8Array): Uint8Array {
  const rateBytes = KECCAK256_RATE_WORDS * WORD_BYTES
  state.fill(0)
  const xorByte = (at: number, value: number): void => {
    state[at >> 2] = state[at >> 2]! ^ (value << ((at & 3) * 8))
  }
  let offset = 0
  for (; data.length - offset >= rateBytes; offset += rateBytes) {
    for (let i = 0; i < rateBytes; i++) xorByte(i, data[offset + i]!)
    permute()
  }
  const tail = data.length - offset
  for (let i = 0; i < tail; i++) xorByte(i, data[offset + i]!)
  xorByte(tail, 0x01)
  xorByte(rateBytes - 1, 0x80)
  permute()
  const out = new Uint8Array(SEAL_HASH_BYTES)
  for (let i = 0; i < SEAL_HASH_BYTES; i++) out[i] = (state[i >> 2]! >>> ((i & 3) * 8)) & 0xff
  return out
}
