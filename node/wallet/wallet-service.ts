import type { Wallet } from 'ethers'
import { Mutex } from '../util/mutex.js'
import { WalletLockedError } from './errors.js'
import {
  createWallet, currentWallet, importWallet, listWallets, revealMnemonic, unlockWallet, type MnemonicWordCount,
  type RecoveryPhrase
} from './keystore.js'

export interface WalletServiceOptions {
  /** scrypt cost for new keystores; lower than ethers' default 2^17 only in tests. */
  scryptN?: number
}

export interface CreateWalletRequest {
  password: string
  words?: MnemonicWordCount
  force?: boolean
}

export interface ImportWalletRequest {
  mnemonic: string
  password: string
  index?: number
  force?: boolean
}

/**
 * The daemon's wallet: the keystore on disk plus, once unlocked, the signer in memory. Creating or
 * importing leaves the new wallet unlocked, since the caller has just given its password.
 */
export class WalletService {
  private unlocked: Wallet | undefined
  /** Bumped by lock() so an unlock still running when the user locks cannot unlock afterwards. */
  private lockGeneration = 0
  /** Keystore changes and unlocks run one at a time, so none sees another half done. */
  private readonly mutex = new Mutex()

  constructor (readonly home: string, private readonly options: WalletServiceOptions = {}) {}

  async exists (): Promise<boolean> {
    return (await listWallets(this.home)).length > 0
  }

  /** Readable without the password: the keystore stores the address in clear. */
  async address (): Promise<string> {
    return (await currentWallet(this.home)).address
  }

  async create ({ password, words, force }: CreateWalletRequest): Promise<{ address: string, mnemonic: string }> {
    return await this.mutex.run(async () => {
      const created = await createWallet(this.home, password, { words, force, scryptN: this.options.scryptN })
      this.unlocked = created.signer
      return { address: created.address, mnemonic: created.mnemonic }
    })
  }

  async import ({ mnemonic, password, index, force }: ImportWalletRequest): Promise<{ address: string }> {
    return await this.mutex.run(async () => {
      const imported = await importWallet(this.home, mnemonic, password, { index, force, scryptN: this.options.scryptN })
      this.unlocked = imported.signer
      return { address: imported.address }
    })
  }

  async unlock (password: string): Promise<{ address: string }> {
    const generation = this.lockGeneration
    return await this.mutex.run(async () => {
      const signer = await unlockWallet((await currentWallet(this.home)).file, password)
      if (generation === this.lockGeneration) this.unlocked = signer
      return { address: signer.address }
    })
  }

  /** Drops the signer; JavaScript cannot wipe the key bytes, but nothing reaches them any more. */
  lock (): void {
    this.lockGeneration++
    this.unlocked = undefined
  }

  isUnlocked (): boolean {
    return this.unlocked !== undefined
  }

  signer (): Wallet {
    if (this.unlocked === undefined) throw new WalletLockedError()
    return this.unlocked
  }

  /** Asks for the password even when unlocked: the phrase opens every account, so it needs proof of the owner. */
  async exportMnemonic (password: string): Promise<RecoveryPhrase> {
    return await revealMnemonic((await currentWallet(this.home)).file, password)
  }
}
