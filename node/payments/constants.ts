/**
 * Payment constants. This file imports nothing, so the Hardhat deploy scripts (CommonJS) share it.
 */

export const ESCROW_CONTRACT_NAME = 'ChiralEscrow'

/** `<home>/deployments.json`: contract addresses per chain id, written by `deploy/` and read by the node. */
export const DEPLOYMENTS_FILENAME = 'deployments.json'

/**
 * Genesis predeploys are created as if this account had sent a contract creation with nonce 0,
 * so the contract's own address, which EIP-712 caches at construction, is the CREATE address.
 */
export const PREDEPLOY_CREATOR = '0x000000000000000000000000000000000000c41a'
