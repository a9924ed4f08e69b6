import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { randomBytes } from 'node:crypto'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import type { HeadChange } from '../chain.js'
import type { RpcBackend } from './backend.js'
import { InvalidParamsError, ServerError } from './errors.js'
import { formatHeader } from './format.js'
import { matchingLogs } from './logs.js'
import { addressAndTopics, object, type LogFilter } from './params.js'

/** A connection that notifications can be pushed to (a WebSocket). */
export interface Subscriber {
  send: (message: string) => void
}

type Subscription =
  | { kind: 'newHeads', owner: Subscriber }
  | { kind: 'newPendingTransactions', owner: Subscriber }
  | { kind: 'logs', owner: Subscriber, filter: Pick<LogFilter, 'addresses' | 'topics'> }

/** Keeps one connection from making the node do unbounded work per block. */
const MAX_SUBSCRIPTIONS_PER_CONNECTION = 128

/**
 * eth_subscribe for all connections: one listener on the chain and the pool fans events out,
 * in the order they happened, as `eth_subscription` notifications.
 */
export class SubscriptionHub {
  private readonly subscriptions = new Map<string, Subscription>()
  private delivery: Promise<void> = Promise.resolve()
  private readonly onHead = (change: HeadChange): void => { this.enqueue(async () => { await this.publishHeadChange(change) }) }
  private readonly onPendingTx = (tx: TypedTransaction): void => { this.publish('newPendingTransactions', () => bytesToHex(tx.hash())) }

  constructor (private readonly backend: RpcBackend, private readonly log: Logger) {}

  start (): void {
    this.backend.chain.on('head', this.onHead)
    this.backend.txpool.on('added', this.onPendingTx)
  }

  async stop (): Promise<void> {
    this.backend.chain.off('head', this.onHead)
    this.backend.txpool.off('added', this.onPendingTx)
    this.subscriptions.clear()
    await this.delivery
  }

  subscribe (owner: Subscriber, kind: unknown, options: unknown): string {
    const owned = [...this.subscriptions.values()].filter(subscription => subscription.owner === owner).length
    if (owned >= MAX_SUBSCRIPTIONS_PER_CONNECTION) throw new ServerError(`too many subscriptions on this connection (at most ${MAX_SUBSCRIPTIONS_PER_CONNECTION})`)
    const id = `0x${randomBytes(16).toString('hex')}`
    this.subscriptions.set(id, describe(owner, kind, options))
    return id
  }

  unsubscribe (owner: Subscriber, id: string): boolean {
    if (this.subscriptions.get(id)?.owner !== owner) return false
    return this.subscriptions.delete(id)
  }

  dropAll (owner: Subscriber): void {
    for (const [id, subscription] of this.subscriptions) if (subscription.owner === owner) this.subscriptions.delete(id)
  }

  private enqueue (task: () => Promise<void>): void {
    this.delivery = this.delivery.then(task).catch(err => { this.log.warn({ err: errorMessage(err) }, 'subscription delivery failed') })
  }

  /** Logs of blocks that left the chain first (removed: true), then the new blocks' heads and logs. */
  private async publishHeadChange (change: HeadChange): Promise<void> {
    for (const block of change.removed) await this.publishLogs(block, true)
    for (const block of change.added) {
      this.publish('newHeads', () => formatHeader(block.header))
      await this.publishLogs(block, false)
    }
  }

  private async publishLogs (block: Block, removed: boolean): Promise<void> {
    for (const [id, subscription] of this.subscriptions) {
      if (subscription.kind !== 'logs') continue
      for (const log of await matchingLogs(this.backend.chain, block, subscription.filter, removed)) notify(subscription.owner, id, log)
    }
  }

  private publish (kind: 'newHeads' | 'newPendingTransactions', result: () => unknown): void {
    let computed: unknown
    for (const [id, subscription] of this.subscriptions) {
      if (subscription.kind !== kind) continue
      computed ??= result()
      notify(subscription.owner, id, computed)
    }
  }
}

function describe (owner: Subscriber, kind: unknown, options: unknown): Subscription {
  if (kind === 'newHeads' || kind === 'newPendingTransactions') {
    if (options !== undefined) throw new InvalidParamsError(`invalid argument 1: ${kind} takes no options`)
    return { kind, owner }
  }
  if (kind === 'logs') return { kind, owner, filter: addressAndTopics(options === undefined ? {} : object(options, '1'), '1') }
  throw new InvalidParamsError(`no "${String(kind)}" subscription in eth namespace (newHeads, logs, newPendingTransactions)`)
}

function notify (owner: Subscriber, subscription: string, result: unknown): void {
  owner.send(JSON.stringify({ jsonrpc: '2.0', method: 'eth_subscription', params: { subscription, result } }))
}
