const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes (bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit] as string}`
}

export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

const WEI_PER_CHI = 10n ** 18n

/** Exact decimal CHI from a wei string, trimmed to `decimals` places (no float rounding). */
export function formatChi (wei: string | bigint, decimals = 6): string {
  const value = typeof wei === 'bigint' ? wei : BigInt(wei)
  const negative = value < 0n
  const abs = negative ? -value : value
  const whole = abs / WEI_PER_CHI
  const fraction = (abs % WEI_PER_CHI).toString().padStart(18, '0').slice(0, decimals).replace(/0+$/, '')
  return `${negative ? '-' : ''}${whole.toString()}${fraction === '' ? '' : `.${fraction}`} CHI`
}

/** A price per MiB: wei is unreadable at CHI scale, so small prices stay in wei. */
export function formatPrice (weiPerMiB: string): string {
  if (weiPerMiB === '0') return 'free'
  return BigInt(weiPerMiB) < 10n ** 12n ? `${weiPerMiB} wei/MiB` : `${formatChi(weiPerMiB)}/MiB`
}

export function formatDuration (seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return '—'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

export function formatTime (ms: number): string {
  return new Date(ms).toLocaleString()
}

export function formatHashrate (hashesPerSecond: number): string {
  return hashesPerSecond >= 1000 ? `${(hashesPerSecond / 1000).toFixed(1)} kH/s` : `${hashesPerSecond} H/s`
}

/** Long ids (content ids, peer ids, hashes) as head…tail; the full value goes in a title. */
export function shorten (text: string, keep = 8): string {
  return text.length <= keep * 2 + 1 ? text : `${text.slice(0, keep)}…${text.slice(-keep)}`
}
