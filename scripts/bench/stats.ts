export const MB = 1e6
export const MiB = 1024 * 1024
export const GiB = 1024 * MiB

export function median (values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

/** Nearest-rank percentile: the smallest sample with at least p% of samples at or below it. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.max(1, Math.ceil(p / 100 * sorted.length))
  return sorted[rank - 1] as number
}

/** Throughput in MB/s (10^6 bytes per second). */
export function mbps (bytes: number, ms: number): number {
  return bytes / MB / (ms / 1000)
}

export const fmt = {
  s: (ms: number): string => Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'n/a',
  ms: (ms: number): string => Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : 'n/a',
  mbps: (value: number): string => Number.isFinite(value) ? `${value.toFixed(0)} MB/s` : 'n/a',
  x: (value: number): string => Number.isFinite(value) ? `${value.toFixed(2)}x` : 'n/a',
  mb: (bytes: number): string => Number.isFinite(bytes) ? `${(bytes / MB).toFixed(0)} MB` : 'n/a'
}
