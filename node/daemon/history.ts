/** One history sample: rates over the interval that ended at `at` (ms since the epoch). */
export interface HistorySample {
  at: number
  /** Bytes per second served to peers. */
  upload: number
  /** Bytes per second received from peers. */
  download: number
  /** Hashes per second of this node's miner at `at`. */
  hashrate: number
}

export interface HistoryReadings {
  uploaded: () => number
  downloaded: () => number
  hashrate: () => number
}

/**
 * A fixed-size ring of samples: four typed arrays allocated once, so memory stays the same
 * however long the daemon runs; the oldest sample is overwritten when the ring is full.
 */
export class SampleRing {
  private readonly at: Float64Array
  private readonly upload: Float64Array
  private readonly download: Float64Array
  private readonly hashrate: Float64Array
  private next = 0
  private count = 0

  constructor (readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a positive integer')
    this.at = new Float64Array(capacity)
    this.upload = new Float64Array(capacity)
    this.download = new Float64Array(capacity)
    this.hashrate = new Float64Array(capacity)
  }

  get size (): number { return this.count }

  push (sample: HistorySample): void {
    this.at[this.next] = sample.at
    this.upload[this.next] = sample.upload
    this.download[this.next] = sample.download
    this.hashrate[this.next] = sample.hashrate
    this.next = (this.next + 1) % this.capacity
    this.count = Math.min(this.count + 1, this.capacity)
  }

  /** Oldest first. */
  list (): HistorySample[] {
    const out: HistorySample[] = []
    const start = (this.next - this.count + this.capacity) % this.capacity
    for (let i = 0; i < this.count; i++) {
      const index = (start + i) % this.capacity
      out.push({ at: this.at[index] ?? 0, upload: this.upload[index] ?? 0, download: this.download[index] ?? 0, hashrate: this.hashrate[index] ?? 0 })
    }
    return out
  }
}

/**
 * Samples the node's byte counters and hashrate every `intervalMs` into a SampleRing, so the
 * dashboard can draw the recent past (GET /api/history) instead of only what it saw itself.
 */
export class MetricsHistory {
  readonly ring: SampleRing
  private timer?: NodeJS.Timeout
  private last?: { at: number, uploaded: number, downloaded: number }

  constructor (private readonly readings: HistoryReadings, readonly intervalMs: number, capacity: number, private readonly now: () => number = Date.now) {
    this.ring = new SampleRing(capacity)
  }

  start (): void {
    if (this.timer != null) return
    this.sample()
    this.timer = setInterval(() => { this.sample() }, this.intervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer != null) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Takes one sample now; the first only records the counters (a rate needs two readings). */
  sample (): void {
    const at = this.now()
    const uploaded = safeRead(this.readings.uploaded)
    const downloaded = safeRead(this.readings.downloaded)
    const last = this.last
    this.last = { at, uploaded, downloaded }
    if (last == null || at <= last.at) return
    const seconds = (at - last.at) / 1000
    this.ring.push({
      at,
      upload: Math.max(0, Math.round((uploaded - last.uploaded) / seconds)),
      download: Math.max(0, Math.round((downloaded - last.downloaded) / seconds)),
      hashrate: Math.max(0, Math.round(safeRead(this.readings.hashrate)))
    })
  }

  list (): HistorySample[] { return this.ring.list() }
}

function safeRead (read: () => number): number {
  try {
    const value = read()
    return Number.isFinite(value) ? value : 0
  } catch {
    return 0
  }
}
