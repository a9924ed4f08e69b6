import type { Block } from '@ethereumjs/block'
import { TxRejectedError } from '../errors.js'
import type { Chain } from '../chain.js'
import { resolveBlock } from './blocks.js'
import { ServerError } from './errors.js'
import { formatBlock, formatReceipt, formatTransaction, toQuantity } from './format.js'
import { getLogs } from './logs.js'
import { method, type RpcMethod } from './method.js'
import { blockNumber, bool, data, hash32, logFilter, optional, uint64, type BlockId } from './params.js'

const byHash = (hash: `0x${string}`): BlockId => ({ hash, requireCanonical: false })

/** Blocks, transactions, receipts and logs of the canonical chain, and submitting transactions. */
export const chainMethods: Record<string, RpcMethod> = {
  eth_blockNumber: method([], ({ backend }) => toQuantity(backend.chain.head.header.number)),
  eth_getBlockByNumber: method([blockNumber, optional(bool, false)], async ({ backend: { chain } }, id, full) => await blockJson(chain, id, full)),
  eth_getBlockByHash: method([hash32, optional(bool, false)], async ({ backend: { chain } }, hash, full) => await blockJson(chain, byHash(hash), full)),
  eth_getBlockTransactionCountByNumber: method([blockNumber], async ({ backend: { chain } }, id) => await transactionCount(chain, id)),
  eth_getBlockTransactionCountByHash: method([hash32], async ({ backend: { chain } }, hash) => await transactionCount(chain, byHash(hash))),
  // This chain has no uncles: a known block always has none.
  eth_getUncleCountByBlockNumber: method([blockNumber], async ({ backend: { chain } }, id) => await resolveBlock(chain, id) == null ? null : '0x0'),
  eth_getUncleCountByBlockHash: method([hash32], async ({ backend: { chain } }, hash) => await resolveBlock(chain, byHash(hash)) == null ? null : '0x0'),
  eth_getTransactionByBlockNumberAndIndex: method([blockNumber, uint64], async ({ backend: { chain } }, id, index) => await transactionAt(chain, id, index)),
  eth_getTransactionByBlockHashAndIndex: method([hash32, uint64], async ({ backend: { chain } }, hash, index) => await transactionAt(chain, byHash(hash), index)),
  eth_getTransactionByHash: method([hash32], async ({ backend: { chain, txpool } }, hash) => {
    const found = await chain.findTransaction(hash)
    const mined = found?.block.transactions[found.index]
    if (found != null && mined != null) return formatTransaction(mined, found)
    const pending = txpool.get(hash)
    return pending == null ? null : formatTransaction(pending)
  }),
  eth_getTransactionReceipt: method([hash32], async ({ backend: { chain } }, hash) => {
    const found = await chain.findTransaction(hash)
    if (found == null) return null
    return formatReceipt(found.block, await chain.getReceipts(found.block), found.index)
  }),
  eth_getLogs: method([logFilter], async ({ backend: { chain } }, filter) => await getLogs(chain, filter)),
  eth_sendRawTransaction: method([data], async ({ backend }, raw) => {
    try {
      const tx = backend.txpool.decode(raw)
      const hash = await backend.txpool.add(tx)
      backend.onLocalTransaction?.(tx)
      return hash
    } catch (err) {
      // The pool's texts are geth's, which libraries match on to classify the failure.
      if (err instanceof TxRejectedError) throw new ServerError(err.message)
      throw err
    }
  })
}

async function blockJson (chain: Chain, id: BlockId, full: boolean): Promise<Record<string, unknown> | null> {
  const block = await resolveBlock(chain, id)
  return block == null ? null : formatBlock(block, await chain.totalDifficulty(block), full)
}

async function transactionCount (chain: Chain, id: BlockId): Promise<string | null> {
  const block = await resolveBlock(chain, id)
  return block == null ? null : toQuantity(block.transactions.length)
}

async function transactionAt (chain: Chain, id: BlockId, index: bigint): Promise<Record<string, unknown> | null> {
  const block: Block | undefined = await resolveBlock(chain, id)
  const tx = block?.transactions[Number(index)]
  return block == null || tx == null ? null : formatTransaction(tx, { block, index: Number(index) })
}
