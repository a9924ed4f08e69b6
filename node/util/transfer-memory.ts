import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { native } from '../native/index.js'

/** V8 frees the backing stores of collected buffers on a background thread shortly after a collection. */
const FREED_BUFFERS_SETTLE_MS = 100
const RELEASE_AFTER_IDLE_MS = 1_000

setFlagsFromString('--expose-gc')
/**
 * A full collection as a bare `gc()` runs it. The `{ type: 'major' }` form keeps whatever is
 * reachable from WeakRef targets (Node's AbortSignal.timeout keeps its signals in one, and libp2p
 * closes connections under such signals): after peers that stopped reading were cut off, it left
 * their chunks resident (measured: 32 of 32 MiB), where this collection frees them.
 */
const collectGarbage = runInNewContext('gc') as () => void

/**
 * Gives a finished transfer's memory back. An idle daemon allocates too little to trigger a full
 * collection, so network buffers promoted during a large transfer, and the allocator's heap pages
 * around them, would stay resident until the next transfer (~30-40 MB after a 1 GiB download).
 * It waits until the daemon has been idle a moment, so the pause of the collection falls on
 * nobody's request, and does nothing if `busy` says another transfer has started by then;
 * otherwise `dropBuffers` first lets go of buffers kept for reuse, so the collection frees them too.
 */
export function releaseTransferMemory (busy: () => boolean, dropBuffers: () => void): void {
  setTimeout(() => {
    if (busy()) return
    dropBuffers()
    collectGarbage()
    setTimeout(() => { native.releaseFreeMemory() }, FREED_BUFFERS_SETTLE_MS).unref()
  }, RELEASE_AFTER_IDLE_MS).unref()
}
