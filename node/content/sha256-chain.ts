import { createRequire } from 'node:module'

/**
 * SHA-256 carried across a file chunk by chunk (the native addon in `sha256-chain/`): a step
 * starts from the hash state after the first `offset` bytes (null at 0) and returns the state
 * after its bytes, or the file's SHA-256 when it is the last step. `step` runs on libuv's thread
 * pool and keeps `bytes` alive until it settles; `bytes` must not change meanwhile.
 */
interface Sha256ChainBinding {
  step: (state: Uint8Array | null, bytes: Uint8Array, offset: number, last: boolean) => Promise<Buffer>
  stepSync: (state: Uint8Array | null, bytes: Uint8Array, offset: number, last: boolean) => Buffer
}

const binding = createRequire(import.meta.url)('./sha256_chain.node') as Sha256ChainBinding

/** Steps that are not the last must cover whole SHA-256 blocks: chunk sizes are multiples of this. */
export const SHA256_BLOCK_BYTES = 64

export const sha256Step = binding.step
export const sha256StepSync = binding.stepSync
