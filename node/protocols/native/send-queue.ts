import type { Connection } from '@libp2p/interface'
import { SEND_STALL_TIMEOUT_MS } from '../../config/constants.js'

/**
 * How much of a body may still be queued when it counts as sent: one yamux frame. It also covers
 * the small frames (window updates, pings) other parts of libp2p queue, which are not counted.
 */
const SENT_QUEUE_BYTES = 256 * 1024
/** How often a connection with bodies still queued is looked at when nothing else happens on it. */
const CHECK_INTERVAL_MS = 50

/** yamux's queue of outgoing frames (an it-pushable): bytes the socket has not taken yet. */
interface OutgoingQueue {
  readonly readableLength: number
  /** Without a signal it-pushable resolves this at once, so one is always given. */
  onEmpty: (options: { signal: AbortSignal }) => Promise<void>
}

/**
 * The outgoing frame queue of a connection's muxer. yamux waits only for the peer's flow-control
 * window before queueing a frame, and the peer chooses that window, so a peer that grants a
 * large one and then stops reading its socket would make the queue grow without limit. libp2p
 * keeps the muxer on the connection without typing it; if that changes, this finds nothing and
 * bodies count as sent once queued (the stall timeout still cuts such peers off).
 */
function outgoingQueue (connection: Connection): OutgoingQueue | undefined {
  const source = (connection as unknown as { muxer?: { source?: Partial<OutgoingQueue> } }).muxer?.source
  return typeof source?.readableLength === 'number' && typeof source.onEmpty === 'function' ? source as OutgoingQueue : undefined
}

interface Pending { mark: number, release: () => void }

/**
 * Tells when bytes handed to a connection's streams have left the process. Bytes are counted as
 * streams hand them over (`sent`); the queue is first in, first out, so a body handed over when
 * `mark` bytes had been counted has left, but for SENT_QUEUE_BYTES at most, once what is still
 * queued exceeds what was handed over after it by no more than that. A connection whose queue
 * stops shrinking for SEND_STALL_TIMEOUT_MS while bodies wait on it is closed.
 */
export class SendQueue {
  private counted = 0
  private readonly pending: Pending[] = []
  private readonly waits = new AbortController()
  private watch?: NodeJS.Timeout
  private waitingForEmpty = false
  private lastQueued = 0
  private progressAt = 0

  private constructor (private readonly connection: Connection, private readonly queue?: OutgoingQueue) {}

  private static readonly byConnection = new WeakMap<Connection, SendQueue>()

  static of (connection: Connection): SendQueue {
    let queue = SendQueue.byConnection.get(connection)
    if (queue == null) {
      queue = new SendQueue(connection, outgoingQueue(connection))
      SendQueue.byConnection.set(connection, queue)
    }
    return queue
  }

  /** Counts bytes a stream's sink took (yamux has queued them). */
  sent (bytes: number): void {
    this.counted += bytes
    this.releaseSent()
  }

  /** Calls `release` once every byte counted so far has left the process, or the connection closed. */
  afterSent (release: () => void): void {
    this.pending.push({ mark: this.counted, release })
    this.releaseSent()
    if (this.pending.length > 0) this.startWatching()
  }

  /**
   * Gives back the slots of bodies that have left. Called whenever bytes are handed over, while
   * bodies wait, and before a stream asks for a slot: a peer asking again has read its last body.
   */
  releaseSent (): void {
    if (this.pending.length === 0) return
    const queued = this.connection.status === 'open' ? (this.queue?.readableLength ?? 0) : 0
    while (this.pending.length > 0) {
      const first = this.pending[0] as Pending
      if (queued - (this.counted - first.mark) > SENT_QUEUE_BYTES) break
      this.pending.shift()
      first.release()
    }
    if (this.pending.length === 0) this.stopWatching()
  }

  /** While bodies wait: looks every CHECK_INTERVAL_MS and whenever the queue empties. */
  private startWatching (): void {
    this.waitForEmpty()
    if (this.watch != null) return
    this.lastQueued = Number.POSITIVE_INFINITY
    this.progressAt = Date.now()
    this.watch = setInterval(() => { this.check() }, CHECK_INTERVAL_MS)
    this.watch.unref()
  }

  private stopWatching (): void {
    clearInterval(this.watch)
    this.watch = undefined
  }

  private check (): void {
    const queued = this.queue?.readableLength ?? 0
    // The queue shrank since the last look (bytes are added too, but only up to what the slots allow).
    if (queued < this.lastQueued) this.progressAt = Date.now()
    this.lastQueued = queued
    if (Date.now() - this.progressAt >= SEND_STALL_TIMEOUT_MS && this.connection.status === 'open') {
      this.connection.abort(new Error(`the peer took no bytes for ${SEND_STALL_TIMEOUT_MS / 1000} s`))
    }
    this.releaseSent()
  }

  /** One wait at a time: each would hold a listener until the queue empties. */
  private waitForEmpty (): void {
    if (this.waitingForEmpty || this.queue == null) return
    this.waitingForEmpty = true
    this.queue.onEmpty({ signal: this.waits.signal }).then(() => {
      this.waitingForEmpty = false
      this.releaseSent()
      if (this.pending.length > 0) this.waitForEmpty()
    }, () => { this.waitingForEmpty = false })
  }
}
