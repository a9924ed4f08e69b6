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

  async list (address: string, limit = 100): Promise<AccountTransfer[]> {
    const entries = await this.table.values()
    return entries
      .filter(entry => entry.from === address.toLowerCase() || entry.to === address.toLowerCase())
      .sort((a, b) => Number(BigInt(b.blockNumber) - BigInt(a.blockNumber)))
      .slice(0, limit)
  }

  private async onHeadChange (change: HeadChange): Promise<void> {
    for (const block of change.removed) for (const key of this.keysOf(block)) await this.table.delete(key)
    for (const block of change.added) {
      for (const tx of block.transactions) {
        const from = tx.getSenderAddress().toString()
        const to = tx.to?.toString() ?? null
        if (!this.watched.has(from) && (to == null || !this.watched.has(to))) continue
        const hash = bytesToHex(tx.hash())
        await this.table.put(`${bytesToHex(block.hash())}:${hash}`, {
          hash,
          blockNumber: block.header.number.toString(),
          blockHash: bytesToHex(block.hash()),
          from,
          to,
          value: tx.value.toString(),
          direction: from === to ? 'self' : this.watched.has(from) ? 'out' : 'in',
          timestamp: Number(block.header.timestamp)
        })
      }
    }
  }

  private keysOf (block: Block): string[] {
    return block.transactions.map(tx => `${bytesToHex(block.hash())}:${bytesToHex(tx.hash())}`)
  }
}
