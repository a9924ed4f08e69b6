import { setTimeout as sleep } from 'node:timers/promises'
import { expect } from 'chai'
import { ChunkBufferPool } from '../../node/content/chunk-buffers.js'
import { releaseTransferMemory } from '../../node/daemon/heap.js'

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
