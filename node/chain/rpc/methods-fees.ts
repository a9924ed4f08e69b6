import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import type { Chain } from '../chain.js'
import { requireBlock } from './blocks.js'
import { InvalidParamsError } from './errors.js'
import { toQuantity } from './format.js'
import { method, type RpcMethod } from './method.js'
import { blockNumber, optional, percentiles, uint64, type Parser } from './params.js'

const GWEI = 1_000_000_000n
/** The tip suggested when recent blocks carry no transactions to learn from. */
const DEFAULT_TIP = GWEI
/** A suggestion is never above this, so a few extravagant senders cannot inflate everyone's fees. */
const MAX_TIP = 500n * GWEI
/** geth's gas price oracle: the 60th percentile of the cheapest tips of the last 20 blocks. */
const TIP_SAMPLE_BLOCKS = 20n
const TIP_PERCENTILE = 60
const MAX_FEE_HISTORY_BLOCKS = 1024n

/** geth takes the block count as a hex quantity or a plain number. */
const blockCount: Parser<bigint> = (value, name) => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value)
  if (typeof value === 'number') throw new InvalidParamsError(`invalid argument ${name}: block count must be a non-negative integer`)
  return uint64(value, name)
}

/** Fee suggestions and history; the base fee follows EIP-1559, tips are learned from blocks. */
export const feeMethods: Record<string, RpcMethod> = {
  eth_maxPriorityFeePerGas: method([], async ({ backend: { chain } }) => toQuantity(await suggestedTip(chain))),
  eth_gasPrice: method([], async ({ backend: { chain } }) => toQuantity(chain.head.header.calcNextBaseFee() + await suggestedTip(chain))),
  eth_feeHistory: method([blockCount, blockNumber, optional(percentiles, undefined)], async ({ backend: { chain } }, count, newestId, rewardPercentiles) => {
    const newest = await requireBlock(chain, newestId)
    const wanted = count < MAX_FEE_HISTORY_BLOCKS ? count : MAX_FEE_HISTORY_BLOCKS
    const oldest = newest.header.number + 1n > wanted ? newest.header.number + 1n - wanted : 0n
    const blocks: Block[] = []
    for (let number = oldest; number <= newest.header.number && wanted > 0n; number++) blocks.push(await requireBlock(chain, { number }))
    return {
      oldestBlock: toQuantity(blocks.length === 0 ? 0n : oldest),
      baseFeePerGas: blocks.length === 0 ? [] : [...blocks.map(block => block.header.baseFeePerGas ?? 0n), newest.header.calcNextBaseFee()].map(toQuantity),
      gasUsedRatio: blocks.map(block => Number(block.header.gasUsed) / Number(block.header.gasLimit)),
      // No blob transactions are mined here; the fields are present because clients expect them.
      baseFeePerBlobGas: blocks.length === 0 ? [] : new Array<string>(blocks.length + 1).fill('0x0'),
      blobGasUsedRatio: blocks.map(() => 0),
      ...(rewardPercentiles == null ? {} : { reward: await Promise.all(blocks.map(async block => (await blockRewards(chain, block, rewardPercentiles)).map(toQuantity))) })
    }
  })
}

const tipCache = new WeakMap<Chain, { head: string, tip: bigint }>()

async function suggestedTip (chain: Chain): Promise<bigint> {
  const head = bytesToHex(chain.head.hash())
  const cached = tipCache.get(chain)
  if (cached?.head === head) return cached.tip
  const cheapest: bigint[] = []
  for (let number = chain.head.header.number; number >= 0n && number > chain.head.header.number - TIP_SAMPLE_BLOCKS; number--) {
    const block = await chain.getBlock(number)
    const tips = block?.transactions.map(tx => effectiveTip(tx, block.header.baseFeePerGas ?? 0n)) ?? []
    if (tips.length > 0) cheapest.push(tips.reduce((a, b) => a < b ? a : b))
  }
  cheapest.sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  const sampled = cheapest[Math.floor((cheapest.length - 1) * TIP_PERCENTILE / 100)] ?? DEFAULT_TIP
  const tip = sampled < MAX_TIP ? sampled : MAX_TIP
  tipCache.set(chain, { head, tip })
  return tip
}

/** The tips at the given percentiles of a block's gas, transactions weighted by the gas they used. */
async function blockRewards (chain: Chain, block: Block, wanted: number[]): Promise<bigint[]> {
  if (block.transactions.length === 0) return wanted.map(() => 0n)
  const receipts = await chain.getReceipts(block)
  const baseFee = block.header.baseFeePerGas ?? 0n
  const sorted = block.transactions
    .map((tx, i) => ({ tip: effectiveTip(tx, baseFee), gasUsed: BigInt(receipts[i]?.gasUsed ?? '0x0') }))
    .sort((a, b) => a.tip < b.tip ? -1 : a.tip > b.tip ? 1 : 0)
  return wanted.map(percentile => {
    const threshold = BigInt(Math.floor(Number(block.header.gasUsed) * percentile / 100))
    let cumulative = 0n
    for (const entry of sorted) {
      cumulative += entry.gasUsed
      if (cumulative >= threshold) return entry.tip
    }
    return sorted[sorted.length - 1]?.tip ?? 0n
  })
}

function effectiveTip (tx: TypedTransaction, baseFee: bigint): bigint {
  if ('maxFeePerGas' in tx) return tx.maxFeePerGas - baseFee < tx.maxPriorityFeePerGas ? tx.maxFeePerGas - baseFee : tx.maxPriorityFeePerGas
  return (tx as { gasPrice: bigint }).gasPrice - baseFee
}
