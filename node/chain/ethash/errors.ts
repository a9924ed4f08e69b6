import { ChainValidationError } from '../errors.js'
import { ChiralError } from '../../util/errors.js'

/** A block whose nonce and mixHash do not satisfy ethash for its seal hash and difficulty. */
export class InvalidProofOfWorkError extends ChainValidationError {
  constructor (readonly blockNumber: bigint, detail: string) {
    super(`invalid proof of work in block ${blockNumber}: ${detail}`)
  }
}

export class InvalidDifficultyError extends ChainValidationError {
  constructor (readonly blockNumber: bigint, readonly difficulty: bigint, readonly expected: bigint) {
    super(`invalid difficulty in block ${blockNumber}: ${difficulty}, expected ${expected}`)
  }
}

/** The binary cache files and the miner's shared memory hold raw little-endian words. */
export class UnsupportedHostError extends ChiralError {
  constructor () {
    super('UNSUPPORTED_HOST', 'ethash needs a little-endian host', 500)
  }
}

export class MinerWorkerError extends ChiralError {
  constructor (detail: string) {
    super('MINER_WORKER_FAILED', `a mining worker failed: ${detail}`, 500)
  }
}
