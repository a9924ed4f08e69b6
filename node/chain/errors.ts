import { ChiralError } from '../util/errors.js'

/** A block or transaction that breaks a consensus rule; peers that send one are penalised. */
export class ChainValidationError extends ChiralError {
  constructor (message: string) {
    super('INVALID_BLOCK', message, 400)
  }
}

export class UnknownParentError extends ChiralError {
  constructor (readonly parentHash: string, readonly number: bigint) {
    super('UNKNOWN_PARENT', `parent ${parentHash} of block ${number} is unknown`, 400)
  }
}

/** Transaction pool rejections, with the texts Ethereum clients and libraries expect. */
export class TxRejectedError extends ChiralError {
  constructor (message: string) {
    super('TX_REJECTED', message, 400)
  }
}
