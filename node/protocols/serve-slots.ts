import { MAX_SERVING_CHUNKS, MAX_SERVING_CHUNKS_PER_PEER } from '../config/constants.js'
import { releaseTransferMemory } from '../util/transfer-memory.js'

/** Below this many bodies served, or this many at once, serving churns too little memory to be worth a full collection afterwards. */
const RELEASE_AFTER_BODIES = 64

interface Waiter {
  peer: string
  grant: (release: () => void) => void
}

/**
 * Slots for chunk bodies being served, one per chunk (native) or per HTTP response (whose
 * range buffer is a chunk), shared by every transport: a body is read only once its request
 * holds a slot, and the slot is given back once the body's bytes have left the process, so the
 * bodies in memory stay under `total` chunks in all and `perPeer` for any one peer. Waiting
 * requests are served in order, skipping those of peers at their own limit. Once serving goes
 * idle after some churn, `onIdle` runs (the node's returns the memory to the kernel, as after a
 * download), so a burst of serving, or an attack, leaves no resident memory behind.
 */
export class ServeSlots {
  private active = 0
  private readonly byPeer = new Map<string, number>()
  private readonly waiting: Waiter[] = []
  private taken = 0
  private takenSinceIdle = 0
  private peakSinceIdle = 0
  private releaseScheduled = false

  /**
   * `onIdle(busy, released)`: serving went idle after churning memory; it should check `busy()`
   * a moment later and, if not, call `released()` and give the memory back.
   */
  constructor (readonly total: number, readonly perPeer: number, private readonly onIdle: (busy: () => boolean, released: () => void) => void = () => {}) {}

  /** Resolves with the slot's release function once `peer` may have one; rejects if `signal` aborts first. */
  async acquire (peer: string, signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted()
    // Every release grants whatever waiter it can at once, so those still waiting are all of
    // peers at their own limit (or the total is reached): a peer with room goes first.
    if (this.available(peer)) return this.take(peer)
    return await new Promise((resolve, reject) => {
      const waiter: Waiter = {
        peer,
        grant: release => {
          signal?.removeEventListener('abort', onAbort)
          resolve(release)
        }
      }
      const onAbort = (): void => {
        const index = this.waiting.indexOf(waiter)
        if (index >= 0) this.waiting.splice(index, 1)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiting.push(waiter)
    })
  }

  private available (peer: string): boolean {
    return this.active < this.total && (this.byPeer.get(peer) ?? 0) < this.perPeer
  }

  private take (peer: string): () => void {
    this.active++
    this.taken++
    this.takenSinceIdle++
    this.peakSinceIdle = Math.max(this.peakSinceIdle, this.active)
    this.byPeer.set(peer, (this.byPeer.get(peer) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.active--
      const left = (this.byPeer.get(peer) ?? 1) - 1
      if (left === 0) this.byPeer.delete(peer)
      else this.byPeer.set(peer, left)
      this.grantWaiting()
      if (this.active === 0) this.wentIdle()
    }
  }

  private wentIdle (): void {
    if (this.releaseScheduled || (this.takenSinceIdle < RELEASE_AFTER_BODIES && this.peakSinceIdle < this.perPeer)) return
    this.releaseScheduled = true
    const takenWhenIdle = this.taken
    this.onIdle(() => {
      this.releaseScheduled = false
      // Busy if anything was served since, even if it is done again by then (then wait anew).
      const busy = this.taken !== takenWhenIdle
      if (busy && this.active === 0) this.wentIdle()
      return busy
    }, () => {
      this.takenSinceIdle = 0
      this.peakSinceIdle = 0
    })
  }

  private grantWaiting (): void {
    for (let index = 0; index < this.waiting.length && this.active < this.total;) {
      const waiter = this.waiting[index] as Waiter
      if (!this.available(waiter.peer)) {
        index++
        continue
      }
      this.waiting.splice(index, 1)
      waiter.grant(this.take(waiter.peer))
    }
  }
}

/** The node's serving slots, shared by its transports. */
export const SERVE_SLOTS = new ServeSlots(MAX_SERVING_CHUNKS, MAX_SERVING_CHUNKS_PER_PEER, (busy, released) => {
  releaseTransferMemory(busy, released)
})
