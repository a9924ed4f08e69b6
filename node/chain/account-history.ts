import { bytesToHex, type PrefixedHexString } from '@ethereumjs/util'
import type { Block } from '@ethereumjs/block'
import type { Database, Table } from '../db/database.js'
import type { Chain, HeadChange } from './chain.js'

export interface AccountTransfer {
  hash: PrefixedHexString
  blockNumber: string
  blockHash: PrefixedHexString
  from: PrefixedHexString
  to: PrefixedHexString | null
  value: string
  direction: 'in' | 'out' | 'self'
  timestamp: number
}

/**
 * Transactions to and from the accounts the node watches (its wallet), kept as blocks join
 * and leave the canonical chain, so `wallet history` needs no scan of the chain.
 */
export class AccountHistory {
  private readonly table: Table<AccountTransfer>
  private readonly watched = new Set<string>()

  constructor (db: Database, chain: Chain) {
    this.table = db.table<AccountTransfer>('account-history')
    chain.on('head', change => { void this.onHeadChange(change) })
  }

  watch (address: string): void {
    this.watched.add(address.toLowerCase())
  }

  /** Entries are keyed by watched address first, so listing reads only that account's. */
  async list (address: string, limit = 100): Promise<AccountTransfer[]> {
    const entries = await this.table.valuesWithPrefix(`${address.toLowerCase()}:`)
    return entries
      .sort((a, b) => Number(BigInt(b.blockNumber) - BigInt(a.blockNumber)))
      .slice(0, limit)
  }

  private async onHeadChange (change: HeadChange): Promise<void> {
    for (const block of change.removed) {
      for (const address of this.watched) for (const key of this.keysOf(address, block)) await this.table.delete(key)
    }
    for (const block of change.added) {
      for (const tx of block.transactions) {
        const from = tx.getSenderAddress().toString()
        const to = tx.to?.toString() ?? null
        if (!this.watched.has(from) && (to == null || !this.watched.has(to))) continue
        const hash = bytesToHex(tx.hash())
        const entry: AccountTransfer = {
          hash,
          blockNumber: block.header.number.toString(),
          blockHash: bytesToHex(block.hash()),
          from,
          to,
          value: tx.value.toString(),
          direction: from === to ? 'self' : this.watched.has(from) ? 'out' : 'in',
          timestamp: Number(block.header.timestamp)
        }
        for (const address of new Set([from, to])) {
          if (address != null && this.watched.has(address)) await this.table.put(this.key(address, block, hash), entry)
        }
      }
    }
  }

  private key (address: string, block: Block, txHash: string): string {
    return `${address}:${bytesToHex(block.hash())}:${txHash}`
  }

  private keysOf (address: string, block: Block): string[] {
    return block.transactions.map(tx => this.key(address, block, bytesToHex(tx.hash())))
  }
}
