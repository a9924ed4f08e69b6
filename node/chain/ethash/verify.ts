import type { BlockHeader } from '@ethereumjs/block'
import { bytesToBigInt, equalsBytes } from '@ethereumjs/util'
import { epochOf } from './epoch.js'
import { hashimotoLight } from './hashimoto.js'
import type { LightCacheSource } from './light-cache.js'
import { sealHash } from './seal.js'
import { powTarget } from './target.js'

/**
 * Light-mode ethash check of one header: its mixHash must be the one hashimoto derives from the
 * seal hash and nonce, and the result must be at most 2^256 / difficulty (geth's bound). Genesis
 * has no proof of work.
 */
export async function verifyPow (header: BlockHeader, caches: LightCacheSource): Promise<boolean> {
  if (header.number === 0n) return true
  if (header.difficulty <= 0n) return false
  const cache = await caches.getCache(epochOf(header.number))
  const { mixHash, result } = hashimotoLight(cache.words, cache.fullSize, sealHash(header), header.nonce)
  return equalsBytes(mixHash, header.mixHash) && bytesToBigInt(result) <= powTarget(header.difficulty)
}
