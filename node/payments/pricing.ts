import { BYTES_PER_MIB } from './constants.js'

/** What `bytes` cost at `pricePerMiB` wei, rounded up so a seeder is never paid less than its price. */
export function costOf (bytes: bigint | number, pricePerMiB: bigint): bigint {
  const amount = BigInt(bytes) * pricePerMiB
  return (amount + BYTES_PER_MIB - 1n) / BYTES_PER_MIB
}
