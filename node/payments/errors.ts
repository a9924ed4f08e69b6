import { ChiralError } from '../util/errors.js'

export class EscrowNotFoundError extends ChiralError {
  constructor (escrowId: bigint) {
    super('ESCROW_NOT_FOUND', `escrow ${escrowId} does not exist on this chain`, 404)
  }
}

/** A transaction the chain refused or reverted, with the contract's reason when it gave one. */
export class EscrowTransactionError extends ChiralError {
  constructor (action: string, reason: string) {
    super('ESCROW_TRANSACTION_FAILED', `${action} failed: ${reason}`, 409)
  }
}

export class InsufficientFundsError extends ChiralError {
  constructor (wallet: string, balance: bigint, needed: bigint) {
    super('INSUFFICIENT_FUNDS', `wallet ${wallet} holds ${balance} wei but this download needs ${needed} wei in escrow (plus gas); fund it, or choose free seeders with --max-price 0`, 402)
  }
}

export class CostTooHighError extends ChiralError {
  constructor (cost: bigint, limit: bigint) {
    super('COST_TOO_HIGH', `this download may cost up to ${cost} wei, more than the ${limit} wei accepted`, 402)
  }
}

export class PaymentsUnavailableError extends ChiralError {
  constructor (reason = 'the node wallet is locked or the chain has no escrow contract') {
    super('PAYMENTS_UNAVAILABLE', `cannot pay seeders: ${reason}`, 409)
  }
}
