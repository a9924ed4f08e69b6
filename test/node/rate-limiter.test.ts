import { expect } from 'chai'
import { RateLimiter } from '../../node/transfer/rate-limiter.js'

const KiB = 1024
const MiB = 1024 * KiB

/** Runs `work` while a 10 ms timer measures how long the event loop was unavailable. */
async function measure (work: () => Promise<void>): Promise<{ elapsedMs: number, ticks: number, maxGapMs: number, cpuMs: number }> {
  let ticks = 0
  let maxGapMs = 0
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    maxGapMs = Math.max(maxGapMs, now - last)
    last = now
    ticks++
  }, 10)
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  try {
    await work()
  } finally {
    clearInterval(timer)
  }
  const cpu = process.cpuUsage(cpuBefore)
  maxGapMs = Math.max(maxGapMs, performance.now() - last)
  return { elapsedMs: performance.now() - started, ticks, maxGapMs, cpuMs: (cpu.user + cpu.system) / 1000 }
}

describe('rate limiter (no processes)', function () {
  this.timeout(20_000)

  it('passes everything at once when unlimited (rate 0)', async function () {
    const limiter = new RateLimiter(0)
    const result = await measure(async () => { for (let i = 0; i < 100; i++) await limiter.take(MiB) })
    expect(result.elapsedMs).to.be.lessThan(200)
  })

  it('holds the configured rate', async function () {
    const limiter = new RateLimiter(MiB)
    await limiter.take(MiB / 4) // drain the initial burst allowance
    const result = await measure(async () => { for (let i = 0; i < 6; i++) await limiter.take(256 * KiB) })
    // 1.5 MiB at 1 MiB/s: about 1.5 s (at most a quarter second of burst).
    expect(result.elapsedMs).to.be.within(1200, 2500)
  })

  it('waits without blocking the event loop or burning CPU', async function () {
    const limiter = new RateLimiter(MiB)
    await limiter.take(MiB / 4)
    const result = await measure(async () => { await limiter.take(MiB) })
    expect(result.elapsedMs, 'time for 1 MiB at 1 MiB/s').to.be.at.least(700)
    // A limiter that busy-waits starves every socket, timer and API request of the daemon.
    expect(result.maxGapMs, `longest event-loop stall (ms) during a ${Math.round(result.elapsedMs)} ms wait`).to.be.lessThan(100)
    expect(result.ticks, '10 ms timer ticks during the wait').to.be.greaterThan(result.elapsedMs / 10 / 3)
    expect(result.cpuMs, 'CPU time spent waiting (ms)').to.be.lessThan(result.elapsedMs / 4)
  })

  it('applies a rate change to transfers already waiting', async function () {
    const limiter = new RateLimiter(64 * KiB)
    await limiter.take(64 * KiB)
    // At 64 KiB/s this takes 4 s; raised to 8 MiB/s after 100 ms, it ends almost at once.
    setTimeout(() => { limiter.setRate(8 * MiB) }, 100)
    const result = await measure(async () => { await limiter.take(256 * KiB) })
    expect(result.elapsedMs, 'wait after the rate was raised (ms)').to.be.lessThan(1500)
    expect(limiter.rate).to.equal(8 * MiB)
    limiter.setRate(0)
    const unlimited = await measure(async () => { await limiter.take(100 * MiB) })
    expect(unlimited.elapsedMs).to.be.lessThan(100)
  })

  it('stops waiting when its signal aborts', async function () {
    const limiter = new RateLimiter(64 * KiB)
    await limiter.take(64 * KiB)
    const controller = new AbortController()
    setTimeout(() => { controller.abort(new Error('gave up')) }, 200)
    const started = performance.now()
    let error: unknown
    try {
      await limiter.take(256 * KiB, controller.signal) // 4 s at 64 KiB/s
    } catch (err) {
      error = err
    }
    expect(error, 'take rejected').to.be.instanceOf(Error)
    expect(performance.now() - started, 'time until the abort took effect (ms)').to.be.lessThan(1500)
    // The queue keeps working after an aborted waiter.
    limiter.setRate(0)
    await limiter.take(MiB)
  })
})
