/**
 * Wallet constants, apart from node/config/constants.ts so the wallet can change on its own.
 */

export const KEYSTORE_DIRNAME = 'keystore'
/** Wallets superseded by a forced create or import are moved here, never deleted. */
export const REPLACED_KEYSTORE_DIRNAME = 'replaced'
export const KEYSTORE_FILE_MODE = 0o600
export const KEYSTORE_DIR_MODE = 0o700

export const WALLET_PASSWORD_ENV = 'CHIRAL_WALLET_PASSWORD'
/** Holds the generated password of a wallet the node created for itself. */
export const NODE_WALLET_PASSWORD_FILENAME = 'wallet-password'
/** The keystore is only as strong as its password once someone copies the file. */
export const MIN_PASSWORD_LENGTH = 8

/** New wallets get 12 words (128 bits) unless 24 (256 bits) are asked for. */
export const CREATE_WORD_COUNTS: readonly number[] = [12, 24]
export const DEFAULT_WORD_COUNT = 12
/** Every length BIP-39 defines, so phrases from other wallets import. */
export const IMPORT_WORD_COUNTS: readonly number[] = [12, 15, 18, 21, 24]

/**
 * BIP-44 with Ethereum's coin type 60: CHI accounts are Ethereum accounts (EIP-155 chain ids keep
 * transactions apart), so the same phrase opens the same address in MetaMask and other wallets.
 */
export const ACCOUNT_PATH_PREFIX = "m/44'/60'/0'/0"
/** BIP-32 indexes at or above 2^31 are hardened, which this path's last level is not. */
export const MAX_ACCOUNT_INDEX = 2 ** 31 - 1

export const CHI_DECIMALS = 18
/** The EVM holds balances in 256 bits. */
export const MAX_WEI = 2n ** 256n - 1n
