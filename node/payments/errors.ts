import { ChiralError } from '../util/errors.js'

export class EscrowNotFoundError extends ChiralError {
  constructor (escrowId: bigint) {
    super('ESCROW_NOT_FOUND', `escrow ${escrowId} does not exist on this chain`, 404)
  }
}

export class EscrowContractMissingError extends ChiralError {
  constructor (address: string, chainId: bigint) {
    super('ESCROW_CONTRACT_MISSING', `no escrow contract at ${address} on chain ${chainId}: deploy one (npm run deploy:chiral) or use a genesis that predeploys it`, 503)
  }
}

/** A transaction the chain refused or reverted, with the contract's reason when it gave one. */
export class EscrowTransactionError extends ChiralError {
  constructor (action: string, reason: string) {
    super('ESCROW_TRANSACTION_FAILED', `${action} failed: ${reason}`, 409)
  }
}
