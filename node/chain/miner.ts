import type { Block } from '@ethereumjs/block'
import { bytesToHex, equalsBytes, hexToBytes, type Address, type PrefixedHexString } from '@ethereumjs/util'
import { EventEmitter } from 'node:events'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { MAX_MINED_AHEAD_SECONDS, type Chain } from './chain.js'
import { epochOf, powTarget, seedHash } from './ethash/index.js'
import type { TxPool } from './txpool.js'

/** Finds a nonce for a seal hash; implemented by the Ethash worker pool. */
export interface NonceSearch {
  mine: (job: { sealHash: Uint8Array, blockNumber: bigint, difficulty: bigint, signal: AbortSignal }) => Promise<{ nonce: Uint8Array, mixHash: Uint8Array } | undefined>
  readonly hashrate: number
  setThreads: (threads: number) => void
  readonly threads: number
  stop: () => Promise<void>
}

export interface MinerEvents {
  mined: [block: Block]
}

/** How often a template is rebuilt to pick up new transactions and a fresh timestamp. */
const TEMPLATE_REFRESH_MS = 3_000
/** New transactions restart a round at most this often. */
const MIN_TEMPLATE_AGE_MS = 500
/** External hashrate reports (eth_submitHashrate) count for this long. */
const EXTERNAL_HASHRATE_TTL_MS = 60_000
const WORK_TEMPLATES_KEPT = 8

interface Work { template: Block, sealHash: Uint8Array, builtAt: number }

/**
 * Mines on the current head: builds a template from the pool, searches nonces on worker
 * threads, and starts over on a new head or every few seconds. The same templates are handed
 * to external miners through eth_getWork / eth_submitWork.
 */
export class Miner extends EventEmitter<MinerEvents> {
  private running = false
  private round?: AbortController
  private loop?: Promise<void>
  private readonly recentWork: Work[] = []
  private readonly externalHashrates = new Map<string, { rate: number, at: number }>()
  private blocksMined = 0
  private roundStartedAt = 0
  private refreshTimer?: NodeJS.Timeout

  constructor (
    private readonly chain: Chain,
    private readonly pool: TxPool,
    private readonly search: NonceSearch,
    private readonly sealHashOf: (block: Block) => Uint8Array,
    public coinbase: Address,
    private readonly log: Logger
  ) {
    super()
    chain.on('head', () => { this.round?.abort() })
    // A new transaction restarts the round soon, so it goes into the very next block found.
    pool.on('added', () => {
      if (!this.running || this.refreshTimer != null) return
      const round = this.round
      const wait = Math.max(0, this.roundStartedAt + MIN_TEMPLATE_AGE_MS - Date.now())
      this.refreshTimer = setTimeout(() => {
        this.refreshTimer = undefined
        round?.abort()
      }, wait)
    })
  }

  get mining (): boolean {
    return this.running
  }

  get threads (): number {
    return this.search.threads
  }

  get minedCount (): number {
    return this.blocksMined
  }

  get hashrate (): number {
    const now = Date.now()
    let external = 0
    for (const [id, report] of this.externalHashrates) {
      if (now - report.at > EXTERNAL_HASHRATE_TTL_MS) this.externalHashrates.delete(id)
      else external += report.rate
    }
    return (this.running ? this.search.hashrate : 0) + external
  }

  start (threads?: number): void {
    if (threads != null) this.search.setThreads(threads)
    if (this.running) return
    this.running = true
    this.loop = this.mineLoop()
  }

  async stop (): Promise<void> {
    this.running = false
    clearTimeout(this.refreshTimer)
    this.refreshTimer = undefined
    this.round?.abort()
    await this.loop
  }

  /** [seal hash, seed hash, boundary] of a fresh template, as eth_getWork returns. */
  async getWork (): Promise<[PrefixedHexString, PrefixedHexString, PrefixedHexString, PrefixedHexString]> {
    // External miners poll; a template on the current head from the last few seconds is reused.
    const latest = this.recentWork.at(-1)
    const fresh = latest != null && Date.now() - latest.builtAt < TEMPLATE_REFRESH_MS &&
      equalsBytes(latest.template.header.parentHash, this.chain.head.hash())
    const work = fresh ? latest : await this.newWork() as Work
    const boundary = min(powTarget(work.template.header.difficulty), MAX_UINT256)
    return [
      bytesToHex(work.sealHash),
      bytesToHex(seedHash(epochOf(work.template.header.number))),
      `0x${boundary.toString(16).padStart(64, '0')}`,
      `0x${work.template.header.number.toString(16)}`
    ]
  }

  /** Accepts a solution for a template handed out by getWork; true if it made a valid block. */
  async submitWork (nonce: PrefixedHexString, sealHash: PrefixedHexString, mixHash: PrefixedHexString): Promise<boolean> {
    const work = this.recentWork.find(candidate => equalsBytes(candidate.sealHash, hexToBytes(sealHash)))
    if (work == null) return false
    return await this.submit(work, hexToBytes(nonce), hexToBytes(mixHash))
  }

  submitHashrate (rate: bigint, id: PrefixedHexString): void {
    this.externalHashrates.set(id, { rate: Number(rate), at: Date.now() })
  }

  private async mineLoop (): Promise<void> {
    while (this.running) {
      const round = new AbortController()
      this.round = round
      this.roundStartedAt = Date.now()
      const refresh = setTimeout(() => { round.abort() }, TEMPLATE_REFRESH_MS)
      try {
        const work = await this.newWork(round.signal)
        // Aborted while waiting for the clock: a new head, or the miner stopped.
        if (work == null) continue
        const found = await this.search.mine({ sealHash: work.sealHash, blockNumber: work.template.header.number, difficulty: work.template.header.difficulty, signal: round.signal })
        if (found != null) await this.submit(work, found.nonce, found.mixHash)
      } catch (err) {
        this.log.warn({ err: errorMessage(err) }, 'mining round failed')
        await new Promise(resolve => setTimeout(resolve, 1000))
      } finally {
        clearTimeout(refresh)
      }
    }
  }

  /**
   * A template on the current head, stamped at most MAX_MINED_AHEAD_SECONDS ahead of the clock;
   * undefined if `signal` aborts the wait for the clock (without a signal it always returns one).
   */
  private async newWork (signal?: AbortSignal): Promise<Work | undefined> {
    for (;;) {
      if (!await this.waitForClock(signal)) return undefined
      const now = BigInt(Math.floor(Date.now() / 1000))
      const { block } = await this.chain.buildTemplate(await this.pool.executable(), this.coinbase, now)
      // The head may have moved on meanwhile, to a block stamped further ahead: wait again.
      if (block.header.timestamp > now + MAX_MINED_AHEAD_SECONDS) continue
      const work = { template: block, sealHash: this.sealHashOf(block), builtAt: Date.now() }
      this.recentWork.push(work)
      if (this.recentWork.length > WORK_TEMPLATES_KEPT) this.recentWork.shift()
      return work
    }
  }

  /**
   * A block is stamped at least a second after its parent. When that is more than
   * MAX_MINED_AHEAD_SECONDS ahead of the clock (fast blocks, or a peer's clock ahead of ours), waits
   * until it is not, as geth does, so no sealed block is refused as from the future. False if
   * `signal` aborted the wait.
   */
  private async waitForClock (signal?: AbortSignal): Promise<boolean> {
    const earliestMs = Number(this.chain.head.header.timestamp + 1n - MAX_MINED_AHEAD_SECONDS) * 1000
    const waitMs = earliestMs - Date.now()
    if (waitMs > 0) {
      this.log.debug({ number: Number(this.chain.head.header.number) + 1, waitMs }, 'mining waits for the clock to reach the parent block\'s timestamp')
      await new Promise<void>(resolve => {
        const done = (): void => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        const timer = setTimeout(done, waitMs)
        signal?.addEventListener('abort', done, { once: true })
      })
    }
    return signal?.aborted !== true
  }

  private async submit (work: Work, nonce: Uint8Array, mixHash: Uint8Array): Promise<boolean> {
    const block = this.chain.seal(work.template, nonce, mixHash)
    try {
      const result = await this.chain.importBlock(block)
      if (result === 'known') return true
      this.blocksMined++
      this.log.info({ number: Number(block.header.number), hash: bytesToHex(block.hash()), txs: block.transactions.length }, 'mined block')
      this.emit('mined', block)
      return true
    } catch (err) {
      this.log.warn({ err: errorMessage(err) }, 'mined block rejected')
      return false
    }
  }
}

const MAX_UINT256 = 2n ** 256n - 1n

function min (a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
