import { execFile } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { ChunkBufferPool } from '../../node/content/chunk-buffers.js'
import { releaseTransferMemory } from '../../node/util/transfer-memory.js'

describe('memory after a transfer (no processes)', function () {
  it('drops the spare buffers once idle, and leaves them while another transfer runs', async function () {
    const pool = new ChunkBufferPool(4096)
    const spare = pool.acquire()
    pool.release(spare)
    releaseTransferMemory(() => true, () => { pool.clear() })
    await sleep(1300)
    expect(pool.acquire(), 'a transfer was running: the spare buffer stays').to.equal(spare)
    pool.release(spare)
    releaseTransferMemory(() => false, () => { pool.clear() })
    expect(pool.acquire(), 'nothing is dropped before the daemon has been idle a moment').to.equal(spare)
    pool.release(spare)
    await sleep(1300)
    expect(pool.acquire(), 'idle: the spare buffer was let go').to.not.equal(spare)
  })
})

/**
 * Runs in a child, so the flags heap.ts sets apply from the start: keeps a live set, collects while
 * idle (V8 then allows the most growth), then allocates objects that live long enough to be
 * promoted and die there, as a transfer's messages do, and prints the old generation's peak over
 * the live size.
 */
const PROMOTED_GARBAGE_PROGRAM = `
await import(${JSON.stringify(new URL('../../node/daemon/heap.js', import.meta.url).href)})
const { runInNewContext } = await import('node:vm')
;(await import('node:v8')).setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc')
const live = Array.from({ length: 200000 }, (_, i) => ({ i, text: 'x' + i, list: [i, i + 1] }))
collectGarbage({ type: 'major' })
await new Promise(resolve => setTimeout(resolve, 300))
const liveBytes = process.memoryUsage().heapUsed
let peak = liveBytes
const inFlight = new Array(20000)
for (let message = 0; message < 3000000; message++) {
  inFlight[message % inFlight.length] = { message, parts: [message, message, message] }
  if (message % 5000 === 0) {
    peak = Math.max(peak, process.memoryUsage().heapUsed)
    await new Promise(resolve => setImmediate(resolve))
  }
}
console.log(JSON.stringify({ live: live.length, ratio: peak / liveBytes }))
`

describe('heap growth between full collections (a child process)', function () {
  it('collects promoted garbage before the heap reaches 3x its live size, however idle the last collection was', async function () {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROMOTED_GARBAGE_PROGRAM])
    const { live, ratio } = JSON.parse(stdout) as { live: number, ratio: number }
    expect(live).to.equal(200000)
    expect(ratio, 'old generation peak / live size (V8 alone lets it reach 4x)').to.be.below(3)
  })
})
