import type { Block } from '@ethereumjs/block'
import { hexToBytes, type PrefixedHexString } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'
import type { Chain } from '../chain.js'
import { blockNumberOf, resolveBlock } from './blocks.js'
import { InvalidParamsError, ServerError } from './errors.js'
import { blockLogs, formatLog, type StoredLog } from './format.js'
import type { LogFilter } from './params.js'

/** eth_getLogs scans at most this many blocks per request, so one call cannot stall the node. */
export const MAX_LOG_BLOCK_RANGE = 5_000n

export async function getLogs (chain: Chain, filter: LogFilter): Promise<Array<Record<string, unknown>>> {
  if (filter.blockHash != null) return await matchingLogs(chain, await blockByHash(chain, filter.blockHash), filter)
  const { from, to } = blockRange(chain, filter)
  const results: Array<Record<string, unknown>> = []
  for (let number = from; number <= to; number++) {
    const block = await chain.getBlock(number)
    if (block != null) results.push(...await matchingLogs(chain, block, filter))
  }
  return results
}

/** The formatted logs of `block` that pass `filter`; `removed` marks a block reorged out. */
export async function matchingLogs (chain: Chain, block: Block, filter: Pick<LogFilter, 'addresses' | 'topics'>, removed = false): Promise<Array<Record<string, unknown>>> {
  if (!bloomMayMatch(block.header.logsBloom, filter)) return []
  return blockLogs(block, await chain.getReceipts(block), removed)
    .filter(entry => logMatches(entry.log, filter))
    .map(entry => formatLog(entry.log, entry.position))
}

async function blockByHash (chain: Chain, hash: PrefixedHexString): Promise<Block> {
  const block = await resolveBlock(chain, { hash, requireCanonical: false })
  if (block == null) throw new ServerError('unknown block')
  return block
}

/** The requested range, checked against the limit before it is cut at the head. */
function blockRange (chain: Chain, filter: LogFilter): { from: bigint, to: bigint } {
  const head = chain.head.header.number
  const from = blockNumberOf(chain, filter.fromBlock)
  const to = blockNumberOf(chain, filter.toBlock)
  if (from > to) throw new InvalidParamsError('invalid block range params: fromBlock is after toBlock')
  if (to - from + 1n > MAX_LOG_BLOCK_RANGE) throw new ServerError(`block range too large: ${to - from + 1n} blocks, at most ${MAX_LOG_BLOCK_RANGE} per request; split the query`)
  return { from, to: to < head ? to : head }
}

function logMatches (log: StoredLog, filter: Pick<LogFilter, 'addresses' | 'topics'>): boolean {
  // Stored logs and parsed filters are both lowercase hex.
  if (filter.addresses != null && !filter.addresses.includes(log.address)) return false
  if (filter.topics.length > log.topics.length) return false
  return filter.topics.every((alternatives, i) => alternatives == null || alternatives.some(topic => topic === log.topics[i]))
}

/** False when the block's bloom proves no log can match, which spares reading its receipts. */
function bloomMayMatch (logsBloom: Uint8Array, filter: Pick<LogFilter, 'addresses' | 'topics'>): boolean {
  const bloom = new Bloom(logsBloom)
  const mayContainAny = (values: PrefixedHexString[]): boolean => values.some(value => bloom.check(hexToBytes(value)))
  if (filter.addresses != null && !mayContainAny(filter.addresses)) return false
  return filter.topics.every(alternatives => alternatives == null || mayContainAny(alternatives))
}
