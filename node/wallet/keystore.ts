/**
 * The node's wallet on disk: one BIP-39 phrase, one BIP-44 account, kept as a Web3 Secret Storage
 * (v3, scrypt) keystore in <home>/keystore/ that also carries the phrase, encrypted, for recovery.
 */
import { randomBytes, randomUUID, scrypt as nodeScrypt } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import {
  HDNodeWallet, LangEn, Mnemonic, Wallet, decryptKeystoreJson, encryptKeystoreJson, getAddress, isAddress, isError,
  isKeystoreJson, scrypt, type KeystoreAccount
} from 'ethers'
import { InvalidInputError, errorMessage } from '../util/errors.js'
import {
  ACCOUNT_PATH_PREFIX, CREATE_WORD_COUNTS, DEFAULT_WORD_COUNT, IMPORT_WORD_COUNTS, KEYSTORE_DIRNAME, KEYSTORE_DIR_MODE,
  KEYSTORE_FILE_MODE, MAX_ACCOUNT_INDEX, MIN_PASSWORD_LENGTH, REPLACED_KEYSTORE_DIRNAME
} from './constants.js'
import {
  InvalidMnemonicError, KeystoreCorruptError, MultipleWalletsError, NoMnemonicError, WalletExistsError,
  WalletNotFoundError, WeakPasswordError, WrongPasswordError
} from './errors.js'

/**
 * ethers' own scrypt is pure JavaScript and, though async, holds the event loop for the whole
 * derivation (about 0.4 s at the default N = 2^17), stalling every transfer of the daemon during an
 * unlock. Node's runs on the libuv thread pool, is faster, and gives the same bytes.
 */
function useNativeScrypt (): void {
  scrypt.register(async (password, salt, N, r, p, dkLen) => await new Promise<Buffer>((resolve, reject) => {
    // scrypt needs 128 * N * r bytes; node refuses anything above 32 MiB unless told.
    nodeScrypt(password, salt, dkLen, { N, r, p, maxmem: 256 * N * r }, (err, key) => { if (err === null) resolve(key); else reject(err) })
  }))
}
useNativeScrypt()

export type MnemonicWordCount = 12 | 24

export interface StoreOptions {
  /** Replace the wallet already in the home; the old keystore is moved aside, not deleted. */
  force?: boolean
  /** scrypt cost; lower than ethers' default 2^17 only in tests. */
  scryptN?: number
}

export interface CreateWalletOptions extends StoreOptions {
  words?: MnemonicWordCount
}

export interface ImportWalletOptions extends StoreOptions {
  /** The last BIP-44 level: m/44'/60'/0'/0/<index>. */
  index?: number
}

/** A keystore file and what it tells without the password. */
export interface StoredWallet {
  address: string
  file: string
  hasMnemonic: boolean
}

export interface SavedWallet {
  address: string
  file: string
  /** The key is already in hand after saving, so callers need not pay for scrypt again to unlock. */
  signer: Wallet
}

export interface CreatedWallet extends SavedWallet {
  /** The only time the phrase leaves the keystore unasked: the user must write it down now. */
  mnemonic: string
}

export interface RecoveryPhrase {
  mnemonic: string
  path: string
}

export function keystoreDir (home: string): string {
  return join(home, KEYSTORE_DIRNAME)
}

export function accountPath (index = 0): string {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_ACCOUNT_INDEX) {
    throw new InvalidInputError(`invalid account index ${index}: use a whole number from 0 to ${MAX_ACCOUNT_INDEX}`)
  }
  return `${ACCOUNT_PATH_PREFIX}/${index}`
}

export function generateMnemonic (words: number = DEFAULT_WORD_COUNT): Mnemonic {
  if (!CREATE_WORD_COUNTS.includes(words)) {
    throw new InvalidInputError(`a new recovery phrase has ${CREATE_WORD_COUNTS.join(' or ')} words, not ${words}`)
  }
  // BIP-39: every 3 words encode 32 bits of entropy (plus one checksum bit each).
  return Mnemonic.fromEntropy(randomBytes(words / 3 * 4))
}

/** Accepts any spacing and case; says which rule failed without echoing the (secret) words. */
export function parseMnemonic (phrase: string): Mnemonic {
  const trimmed = phrase.normalize('NFKD').trim().toLowerCase()
  const words = trimmed === '' ? [] : trimmed.split(/\s+/)
  if (!IMPORT_WORD_COUNTS.includes(words.length)) {
    throw new InvalidMnemonicError(`it has ${words.length} word${words.length === 1 ? '' : 's'}; expected ${IMPORT_WORD_COUNTS.join(', ')}`)
  }
  const wordlist = LangEn.wordlist()
  const unknown = words.findIndex(word => wordlist.getWordIndex(word) < 0)
  if (unknown >= 0) throw new InvalidMnemonicError(`word ${unknown + 1} is not in the BIP-39 English word list`)
  const normalized = words.join(' ')
  if (!Mnemonic.isValidMnemonic(normalized)) {
    throw new InvalidMnemonicError('the checksum does not match; check the words and their order')
  }
  return Mnemonic.fromPhrase(normalized)
}

export function deriveAccount (mnemonic: Mnemonic, index = 0): HDNodeWallet {
  return HDNodeWallet.fromMnemonic(mnemonic, accountPath(index))
}

export async function createWallet (home: string, password: string, options: CreateWalletOptions = {}): Promise<CreatedWallet> {
  const mnemonic = generateMnemonic(options.words)
  const saved = await saveAccount(home, mnemonic, 0, password, options)
  return { ...saved, mnemonic: mnemonic.phrase }
}

export async function importWallet (home: string, phrase: string, password: string, options: ImportWalletOptions = {}): Promise<SavedWallet> {
  return await saveAccount(home, parseMnemonic(phrase), options.index ?? 0, password, options)
}

/** Every keystore in the home, oldest first (the geth-style names start with the creation time). */
export async function listWallets (home: string): Promise<StoredWallet[]> {
  const dir = keystoreDir(home)
  let entries: Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  const wallets: StoredWallet[] = []
  // Dot files are our own half-written temporaries (geth skips them too).
  for (const entry of entries.filter(e => e.isFile() && !e.name.startsWith('.')).sort(byName)) {
    const file = join(dir, entry.name)
    const wallet = describeKeystore(file, await readFile(file, 'utf8'))
    if (wallet !== undefined) wallets.push(wallet)
  }
  return wallets
}

/** The home's one wallet; a node pays and is paid from a single account. */
export async function currentWallet (home: string): Promise<StoredWallet> {
  const wallets = await listWallets(home)
  const [wallet] = wallets
  if (wallet === undefined) throw new WalletNotFoundError(keystoreDir(home))
  if (wallets.length > 1) throw new MultipleWalletsError(keystoreDir(home), wallets.length)
  return wallet
}

/** Returns a plain Wallet (not an HDNodeWallet) so an unlocked daemon does not hold the phrase in memory. */
export async function unlockWallet (file: string, password: string): Promise<Wallet> {
  const account = await decryptKeystore(file, password)
  return new Wallet(account.privateKey)
}

export async function revealMnemonic (file: string, password: string): Promise<RecoveryPhrase> {
  const account = await decryptKeystore(file, password)
  if (account.mnemonic === undefined) throw new NoMnemonicError(file)
  return {
    mnemonic: Mnemonic.fromEntropy(account.mnemonic.entropy).phrase,
    path: account.mnemonic.path ?? accountPath(0)
  }
}

async function saveAccount (home: string, mnemonic: Mnemonic, index: number, password: string, options: StoreOptions): Promise<SavedWallet> {
  if (password.length < MIN_PASSWORD_LENGTH) throw new WeakPasswordError()
  const account = deriveAccount(mnemonic, index)
  const existing = await listWallets(home)
  const [first] = existing
  if (first !== undefined && options.force !== true) throw new WalletExistsError(first.address, keystoreDir(home))

  const json = await encryptAccount(account, mnemonic, password, options.scryptN)
  const dir = keystoreDir(home)
  await mkdir(dir, { recursive: true, mode: KEYSTORE_DIR_MODE })
  const file = join(dir, keystoreFileName(account.address))
  await writeFileAtomic(file, json)
  // Only after the new keystore is safely on disk: a crash in between leaves two wallets, never none.
  await moveAside(dir, existing.filter(wallet => wallet.file !== file))
  return { address: account.address, file, signer: new Wallet(account.privateKey) }
}

async function encryptAccount (account: HDNodeWallet, mnemonic: Mnemonic, password: string, scryptN: number | undefined): Promise<string> {
  const keystore: KeystoreAccount = {
    address: account.address,
    privateKey: account.privateKey,
    mnemonic: { entropy: mnemonic.entropy, path: account.path ?? undefined, locale: 'en' }
  }
  const json = await encryptKeystoreJson(keystore, password, scryptN === undefined ? {} : { scrypt: { N: scryptN } })
  // ethers writes "Crypto"; the Web3 Secret Storage definition and geth say "crypto", and some
  // strict readers (Python's eth-keyfile) accept only that. ethers reads either.
  const { Crypto: crypto, ...rest } = JSON.parse(json) as Record<string, unknown>
  return JSON.stringify({ ...rest, crypto })
}

async function decryptKeystore (file: string, password: string): Promise<KeystoreAccount> {
  const json = await readFile(file, 'utf8')
  try {
    return await decryptKeystoreJson(json, password)
  } catch (err) {
    // A wrong password fails the MAC check, which ethers reports as a bad "password" argument.
    if (isError(err, 'INVALID_ARGUMENT') && err.argument === 'password') throw new WrongPasswordError()
    throw new KeystoreCorruptError(file, errorMessage(err))
  }
}

function describeKeystore (file: string, json: string): StoredWallet | undefined {
  if (!isKeystoreJson(json)) return undefined
  const data = JSON.parse(json) as { address?: unknown, 'x-ethers'?: { mnemonicCiphertext?: unknown } }
  if (typeof data.address !== 'string') return undefined
  const address = data.address.startsWith('0x') ? data.address : `0x${data.address}`
  if (!isAddress(address)) return undefined
  return { address: getAddress(address), file, hasMnemonic: typeof data['x-ethers']?.mnemonicCiphertext === 'string' }
}

/** geth's naming (UTC--<time>--<address>), so geth, clef and other tools find the key in this directory. */
function keystoreFileName (address: string): string {
  return `UTC--${new Date().toISOString().replace(/:/g, '-')}--${address.slice(2).toLowerCase()}`
}

/** A reader (or a crash) sees either no keystore or a complete one, never a torn file. */
async function writeFileAtomic (file: string, contents: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomUUID()}.tmp`)
  try {
    const handle = await open(temp, 'wx', KEYSTORE_FILE_MODE)
    try {
      await handle.writeFile(contents)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  await syncDirectory(dirname(file))
}

/** Makes the rename itself durable, so a power cut cannot lose a wallet the user was told exists. */
async function syncDirectory (dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
    await handle.sync()
  } catch {
    // Windows cannot open or fsync a directory; there the rename is still atomic, just less durable.
  } finally {
    await handle?.close()
  }
}

async function moveAside (dir: string, wallets: StoredWallet[]): Promise<void> {
  if (wallets.length === 0) return
  const replacedDir = join(dir, REPLACED_KEYSTORE_DIRNAME)
  await mkdir(replacedDir, { recursive: true, mode: KEYSTORE_DIR_MODE })
  for (const wallet of wallets) await rename(wallet.file, join(replacedDir, basename(wallet.file)))
}

function byName (a: Dirent, b: Dirent): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
