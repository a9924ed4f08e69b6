import type { TypedDataDomain, TypedDataField } from 'ethers'

/**
 * The EIP-712 shape of a chunk receipt, shared by the node and the contract tests (Hardhat loads
 * this file as CommonJS, so it imports nothing at run time). It must match
 * `ChiralEscrow.RECEIPT_TYPEHASH`; a contract test checks that it does.
 */
export const RECEIPT_TYPES: Record<string, TypedDataField[]> = {
  Receipt: [
    { name: 'escrowId', type: 'uint256' },
    { name: 'seeder', type: 'address' },
    { name: 'contentId', type: 'bytes32' },
    { name: 'contentBytes', type: 'uint64' },
    { name: 'cumulativeAmount', type: 'uint128' }
  ]
}

export const ESCROW_DOMAIN_NAME = 'ChiralEscrow'
export const ESCROW_DOMAIN_VERSION = '1'

export interface ReceiptMessage {
  escrowId: bigint
  seeder: string
  /** The SHA-256 digest of the file, which is also the digest inside its CIDv1 content id. */
  contentId: string
  contentBytes: bigint
  cumulativeAmount: bigint
}

/** Binds a receipt to one chain and one escrow contract. */
export function escrowDomain (chainId: bigint, escrowAddress: string): TypedDataDomain {
  return { name: ESCROW_DOMAIN_NAME, version: ESCROW_DOMAIN_VERSION, chainId, verifyingContract: escrowAddress }
}
