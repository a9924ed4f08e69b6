import type { Block } from '@ethereumjs/block'
import { hexToBytes } from '@ethereumjs/util'
import type { Chain } from '../chain.js'
import { ServerError } from './errors.js'
import type { BlockId } from './params.js'

/**
 * The block a block parameter names, or undefined if there is none. A proof-of-work chain has
 * no finality and this node builds no pending block, so 'pending', 'safe' and 'finalized' all
 * mean the head (the 'pending' nonce is answered from the pool separately).
 */
export async function resolveBlock (chain: Chain, id: BlockId): Promise<Block | undefined> {
  if ('tag' in id) return id.tag === 'earliest' ? await chain.getBlock(0n) : chain.head
  if ('number' in id) return id.number > chain.head.header.number ? undefined : await chain.getBlock(id.number)
  const block = await chain.getBlock(hexToBytes(id.hash))
  if (block != null && id.requireCanonical && !(await chain.isCanonical(block))) {
    throw new ServerError(`hash ${id.hash} is not currently canonical`)
  }
  return block
}

/** As resolveBlock, for methods that read state and so need the block to exist. */
export async function requireBlock (chain: Chain, id: BlockId): Promise<Block> {
  const block = await resolveBlock(chain, id)
  if (block == null) throw new ServerError('hash' in id ? `header for hash ${id.hash} not found` : 'header not found')
  return block
}

/** The number a range bound names: tags resolve to the head, numbers are taken as they are. */
export function blockNumberOf (chain: Chain, id: BlockId): bigint {
  if ('tag' in id) return id.tag === 'earliest' ? 0n : chain.head.header.number
  if ('number' in id) return id.number
  throw new ServerError('a block hash is not a range bound')
}
