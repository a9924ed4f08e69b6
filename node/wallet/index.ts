export * from './constants.js'
export * from './errors.js'
export {
  accountPath, createWallet, currentWallet, deriveAccount, generateMnemonic, importWallet, keystoreDir, listWallets,
  parseMnemonic, revealMnemonic, unlockWallet,
  type CreateWalletOptions, type CreatedWallet, type ImportWalletOptions, type MnemonicWordCount, type RecoveryPhrase,
  type SavedWallet, type StoreOptions, type StoredWallet
} from './keystore.js'
export { getPassword, type PasswordPurpose, type PasswordSource } from './password.js'
export { formatChi, parseChi } from './units.js'
export {
  WalletService, type CreateWalletRequest, type ImportWalletRequest, type WalletServiceOptions
} from './wallet-service.js'
