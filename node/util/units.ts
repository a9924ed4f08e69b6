import { MAX_BYTE_RATE } from '../config/constants.js'
import { InvalidInputError } from './errors.js'

const RATE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }

/** Parses "0", "500000", "512k", "10M", "1.5MiB", "10MB/s" into whole bytes per second. */
export function parseByteRate (input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) throw new InvalidInputError(`invalid rate: ${input}`)
    if (input > MAX_BYTE_RATE) throw new InvalidInputError(`rate too large: ${input} (at most ${MAX_BYTE_RATE} bytes/s)`)
    return input
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?\s*$/i.exec(input)
  if (match == null) throw new InvalidInputError(`invalid rate "${input}": use bytes per second, optionally with k, M or G (e.g. 10M)`)
  const value = Number(match[1]) * (RATE_UNITS[(match[2] ?? '').toLowerCase()] ?? 1)
  if (!(Math.round(value) <= MAX_BYTE_RATE)) throw new InvalidInputError(`rate too large: ${input} (at most ${MAX_BYTE_RATE} bytes/s)`)
  return Math.round(value)
}

export function parseWei (input: string, what = 'price'): bigint {
  if (!/^\d{1,78}$/.test(input.trim())) throw new InvalidInputError(`invalid ${what} "${input}": give a whole number of wei`)
  const wei = BigInt(input.trim())
  if (wei > UINT256_MAX) throw new InvalidInputError(`invalid ${what} "${input}": above the largest amount of wei (2^256 - 1)`)
  return wei
}

/** The largest amount the chain can hold or a contract take. */
export const UINT256_MAX = 2n ** 256n - 1n

export function formatBytes (bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
