import type { BlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { MIX_HASH_FIELD, NONCE_FIELD } from './constants.js'
import { keccak256 } from './keccak.js'

/**
 * The hash the proof of work commits to: keccak256 of the header RLP without mixHash and nonce,
 * keeping every later field (baseFee, withdrawalsRoot, blob fields, beacon root) as geth does.
 * @ethereumjs/ethash 10.0.0 drops the last two fields instead, which is only right before London.
 */
export function sealHash (header: BlockHeader): Uint8Array {
  const raw = header.raw()
  return keccak256(RLP.encode([...raw.slice(0, MIX_HASH_FIELD), ...raw.slice(NONCE_FIELD + 1)]))
}
