import { createTxFromRLP, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, type PrefixedHexString } from '@ethereumjs/util'
import { EventEmitter } from 'node:events'
import type { Chain, HeadChange } from './chain.js'
import { TxRejectedError } from './errors.js'

/** Limits and rules of the pool; the texts of rejections are the ones geth uses. */
export const TXPOOL_LIMITS = {
  maxTxBytes: 128 * 1024,
  maxPerSender: 64,
  maxTotal: 4096,
  /** A replacement must raise both fee caps by this percentage. */
  priceBumpPercent: 10n
}

export interface TxPoolEvents {
  added: [tx: TypedTransaction]
}

/**
 * Pending transactions, per sender in nonce order. A transaction is accepted only if it could
 * run on the current head (nonce, balance for gas * price + value, intrinsic gas, block gas
 * limit); one with the same sender and nonce replaces another only with a fee bump.
 */
export class TxPool extends EventEmitter<TxPoolEvents> {
  private readonly bySender = new Map<string, Map<bigint, TypedTransaction>>()
  private readonly byHash = new Map<PrefixedHexString, TypedTransaction>()

  constructor (private readonly chain: Chain) {
    super()
    chain.on('head', change => { void this.onHeadChange(change) })
  }

  get size (): number {
    return this.byHash.size
  }

  get (hash: PrefixedHexString): TypedTransaction | undefined {
    return this.byHash.get(hash.toLowerCase() as PrefixedHexString)
  }

  decode (raw: Uint8Array): TypedTransaction {
    if (raw.length > TXPOOL_LIMITS.maxTxBytes) throw new TxRejectedError('oversized data')
    try {
      return createTxFromRLP(raw, { common: this.chain.common })
    } catch (err) {
      throw new TxRejectedError(`invalid transaction: ${(err as Error).message.split(' (')[0] ?? ''}`)
    }
  }

  async add (tx: TypedTransaction): Promise<PrefixedHexString> {
    const hash = bytesToHex(tx.hash())
    if (this.byHash.has(hash)) throw new TxRejectedError('already known')
    if (!tx.isSigned() || !tx.verifySignature()) throw new TxRejectedError('invalid sender')
    if (tx.common.chainId() !== this.chain.chainId) throw new TxRejectedError('invalid chain id for signer')
    const sender = tx.getSenderAddress()
    const head = this.chain.head
    if (tx.gasLimit > head.header.gasLimit) throw new TxRejectedError('exceeds block gas limit')
    if (tx.gasLimit < tx.getIntrinsicGas()) throw new TxRejectedError('intrinsic gas too low')
    const feeCap = 'maxFeePerGas' in tx ? tx.maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
    const state = await this.chain.stateAt(head)
    const account = await state.getAccount(sender)
    const nonce = account?.nonce ?? 0n
    if (tx.nonce < nonce) throw new TxRejectedError('nonce too low')
    if ((account?.balance ?? 0n) < tx.gasLimit * feeCap + tx.value) throw new TxRejectedError('insufficient funds for gas * price + value')
    const key = sender.toString()
    const queue = this.bySender.get(key) ?? new Map<bigint, TypedTransaction>()
    const existing = queue.get(tx.nonce)
    if (existing != null) {
      if (!bumpsFees(existing, tx)) throw new TxRejectedError('replacement transaction underpriced')
      this.byHash.delete(bytesToHex(existing.hash()))
    } else {
      if (queue.size >= TXPOOL_LIMITS.maxPerSender) throw new TxRejectedError('txpool is full: too many pending transactions from this sender')
      if (this.byHash.size >= TXPOOL_LIMITS.maxTotal) throw new TxRejectedError('txpool is full')
    }
    queue.set(tx.nonce, tx)
    this.bySender.set(key, queue)
    this.byHash.set(hash, tx)
    this.emit('added', tx)
    return hash
  }

  /** The next nonce of a sender counting its pending transactions (the "pending" block tag). */
  async pendingNonce (address: string): Promise<bigint> {
    const state = await this.chain.stateAt(this.chain.head)
    let nonce = (await state.getAccount(createAddressFromString(address)))?.nonce ?? 0n
    const queue = this.bySender.get(address.toLowerCase())
    while (queue?.has(nonce) === true) nonce++
    return nonce
  }

  /**
   * Transactions ready for the next block: per sender, the run of consecutive nonces from its
   * account nonce; senders interleaved by the tip they pay.
   */
  async executable (): Promise<TypedTransaction[]> {
    const state = await this.chain.stateAt(this.chain.head)
    const baseFee = this.chain.head.header.calcNextBaseFee()
    const runs: TypedTransaction[][] = []
    for (const [sender, queue] of this.bySender) {
      let nonce = (await state.getAccount(createAddressFromString(sender)))?.nonce ?? 0n
      const run: TypedTransaction[] = []
      while (queue.has(nonce)) run.push(queue.get(nonce++) as TypedTransaction)
      if (run.length > 0) runs.push(run)
    }
    const ordered: TypedTransaction[] = []
    const tip = (tx: TypedTransaction): bigint => effectiveTip(tx, baseFee)
    while (runs.length > 0) {
      runs.sort((a, b) => Number(tip(b[0] as TypedTransaction) - tip(a[0] as TypedTransaction)))
      const best = runs[0] as TypedTransaction[]
      ordered.push(best.shift() as TypedTransaction)
      if (best.length === 0) runs.shift()
    }
    return ordered
  }

  list (): TypedTransaction[] {
    return [...this.byHash.values()]
  }

  private async onHeadChange (change: HeadChange): Promise<void> {
    const included = new Set(change.added.flatMap(block => block.transactions.map(tx => bytesToHex(tx.hash()))))
    for (const block of change.added) {
      for (const tx of block.transactions) this.remove(tx)
    }
    const state = await this.chain.stateAt(change.head)
    for (const [sender, queue] of this.bySender) {
      const nonce = (await state.getAccount(createAddressFromString(sender)))?.nonce ?? 0n
      for (const tx of queue.values()) if (tx.nonce < nonce) this.remove(tx)
    }
    // Transactions of blocks that left the canonical chain go back to the pool.
    for (const block of change.removed) {
      for (const tx of block.transactions) {
        if (!included.has(bytesToHex(tx.hash()))) await this.add(tx).catch(() => {})
      }
    }
  }

  private remove (tx: TypedTransaction): void {
    const hash = bytesToHex(tx.hash())
    const sender = tx.getSenderAddress().toString()
    const queue = this.bySender.get(sender)
    if (queue?.get(tx.nonce) != null && bytesToHex((queue.get(tx.nonce) as TypedTransaction).hash()) === hash) queue.delete(tx.nonce)
    if (queue?.size === 0) this.bySender.delete(sender)
    this.byHash.delete(hash)
  }
}

function feeCaps (tx: TypedTransaction): { cap: bigint, tip: bigint } {
  if ('maxFeePerGas' in tx) return { cap: tx.maxFeePerGas, tip: tx.maxPriorityFeePerGas }
  const price = (tx as { gasPrice: bigint }).gasPrice
  return { cap: price, tip: price }
}

function bumpsFees (old: TypedTransaction, replacement: TypedTransaction): boolean {
  const a = feeCaps(old)
  const b = feeCaps(replacement)
  const bump = (value: bigint): bigint => value + (value * TXPOOL_LIMITS.priceBumpPercent) / 100n
  return b.cap >= bump(a.cap) && b.tip >= bump(a.tip)
}

function effectiveTip (tx: TypedTransaction, baseFee: bigint): bigint {
  const { cap, tip } = feeCaps(tx)
  return cap - baseFee < tip ? cap - baseFee : tip
}
