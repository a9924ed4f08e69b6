/**
 * A token bucket shared by every transfer in one direction. A rate of 0 means unlimited, and the
 * rate can change while transfers run. The bucket holds at most a quarter second of tokens, so
 * a paused transfer cannot burst far above the limit when it resumes.
 */
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

  private async waitFor (bytes: number, signal?: AbortSignal): Promise<void> {
    let remaining = bytes
    while (remaining > 0 && this.bytesPerSecond > 0) {
      signal?.throwIfAborted()
      this.refill()
      const grant = Math.min(remaining, this.tokens)
      if (grant > 0) {
        this.tokens -= grant
        remaining -= grant
        continue
      }
      const needed = Math.min(remaining, this.capacity())
      await sleep(Math.max(1, (needed - this.tokens) / this.bytesPerSecond * 1000))
    }
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}
