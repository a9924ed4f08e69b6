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

/** The libp2p protocol leechers open to a paid seeder: one session, then receipts and acks. */
export const PAYMENT_PROTOCOL = '/chiral/pay/1.0.0'
/** A receipt frame is ~400 bytes; nothing a peer sends on the payment protocol may be larger. */
export const MAX_PAYMENT_FRAME_BYTES = 4 * 1024

export const BYTES_PER_MIB = 1024n * 1024n

/** Bytes a seeder serves a paying peer ahead of its receipts (4 chunks of 1 MiB). */
export const DEFAULT_CREDIT_WINDOW_BYTES = 4 * 1024 * 1024
/** Escrows are opened for a day; redeem and refund run against this expiry. */
export const DEFAULT_ESCROW_DURATION_SECONDS = 24 * 60 * 60
/** How far ahead of the clock the chain accepts a block's timestamp (the chain's import rule, node/chain/chain.ts). */
export const MAX_BLOCK_TIMESTAMP_DRIFT_SECONDS = 15
/** Blocks a seeder allows for its redeem transaction to be included. */
export const REDEEM_INCLUSION_BLOCKS = 12
/** The main network's target block time; dev chains are faster, so the margin only grows in blocks. */
export const TARGET_BLOCK_SECONDS = 5
/**
 * A seeder serves nothing on an escrow this close to its expiry, and redeems it from then on:
 * a leecher that mines may stamp blocks up to the drift ahead, and the redeem still has
 * REDEEM_INCLUSION_BLOCKS blocks to land before the contract's expiry (and its settlement grace)
 * lets the leecher refund.
 */
export const ESCROW_SERVE_MARGIN_SECONDS = MAX_BLOCK_TIMESTAMP_DRIFT_SECONDS + REDEEM_INCLUSION_BLOCKS * TARGET_BLOCK_SECONDS
/** A seeder will not start a session on an escrow that expires sooner than this. */
export const MIN_ESCROW_REMAINING_SECONDS = ESCROW_SERVE_MARGIN_SECONDS + 15
/** A session past its escrow's deposit or near its expiry reads the escrow again (a top-up) at most this often. */
export const ESCROW_RECHECK_INTERVAL_MS = 1_000
/** A leecher offers a session again this often while the seeder says the escrow is not on its chain yet. */
export const SESSION_RETRY_INTERVAL_MS = 1_000
/** ... and for at most this long. */
export const SESSION_RETRY_LIMIT_MS = 30_000
/** Sessions one escrow may back at once (one per file and peer id; more is a leecher multiplying itself). */
export const MAX_SESSIONS_PER_ESCROW = 16
/** How long a leecher waits for a seeder to say where an escrow stands before a session ends. */
export const BALANCE_QUERY_TIMEOUT_MS = 5_000
/** A seeder redeems once this much (wei) is signed but unredeemed, or before expiry. */
export const DEFAULT_REDEEM_THRESHOLD_WEI = '1000000000000000000'
/**
 * Seconds after an escrow's expiry during which its seeder can still redeem and its leecher cannot
 * yet refund, so a redeem sent just before expiry is not raced by a refund under block timestamp
 * drift. The contract has the same constant (`ChiralEscrow.SETTLEMENT_GRACE`); a contract test
 * asserts they are equal.
 */
export const SETTLEMENT_GRACE_SECONDS = 60
/** How often seeders look for escrows to redeem and leechers for expired escrows to refund. */
export const SETTLEMENT_INTERVAL_MS = 5_000
/**
 * A new escrow holds at least this much (1 CHI), so the next downloads from the same seeder reuse
 * it instead of topping up: few on-chain transactions per leecher-seeder relationship.
 */
export const DEFAULT_ESCROW_MINIMUM_DEPOSIT_WEI = '1000000000000000000'
/** Gas a leecher keeps aside per escrow transaction, so a balance check is not off by the fee. */
export const GAS_RESERVE_WEI = 10n ** 15n
/** Each escrow holds the seeder's expected share of the file plus this margin, in percent. */
export const ESCROW_MARGIN_PERCENT = 25n
/**
 * A seeder's claim is final once its transaction has this many confirmations on the node's own
 * chain (its block and the ones on top); until then it is "confirming", and a reorganisation that
 * drops it makes its receipts claimable again.
 */
export const DEFAULT_REDEEM_CONFIRMATIONS = 12
