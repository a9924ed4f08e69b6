/**
 * A token bucket shared by every transfer in one direction. A rate of 0 means unlimited, and the
 * rate can change while transfers run. The bucket holds at most a quarter second of tokens, so
 * a paused transfer cannot burst far above the limit when it resumes.
 */
const GRANT_QUANTUM_BYTES = 16 * 1024

export class RateLimiter {
  private tokens = 0
  private updatedAt = performance.now()
  private queue: Promise<void> = Promise.resolve()

  constructor (private bytesPerSecond: number) {}

  get rate (): number {
    return this.bytesPerSecond
  }

  setRate (bytesPerSecond: number): void {
    this.refill()
    this.bytesPerSecond = bytesPerSecond
    this.tokens = Math.min(this.tokens, this.capacity())
  }

  /** Resolves once `bytes` may be sent; callers are served in arrival order. */
  async take (bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.bytesPerSecond === 0) return
    const turn = this.queue.then(async () => { await this.waitFor(bytes, signal) })
    this.queue = turn.catch(() => {})
    await turn
  }

  private capacity (): number {
    return Math.max(this.bytesPerSecond / 4, 64 * 1024)
  }

  private refill (): void {
    const now = performance.now()
    this.tokens = Math.min(this.capacity(), this.tokens + (now - this.updatedAt) / 1000 * this.bytesPerSecond)
    this.updatedAt = now
  }

  /**
   * Grants tokens in portions of at least GRANT_QUANTUM_BYTES (or what is left); waiting for a
   * whole portion, never spinning on the fraction of a byte earned since the last look.
   */
  private async waitFor (bytes: number, signal?: AbortSignal): Promise<void> {
    let remaining = bytes
    while (remaining > 0 && this.bytesPerSecond > 0) {
      signal?.throwIfAborted()
      this.refill()
      const portion = Math.min(remaining, GRANT_QUANTUM_BYTES, this.capacity())
      if (this.tokens >= portion) {
        const grant = Math.min(remaining, this.tokens)
        this.tokens -= grant
        remaining -= grant
        continue
      }
      await sleep(Math.max(1, (portion - this.tokens) / this.bytesPerSecond * 1000), signal)
    }
  }
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
