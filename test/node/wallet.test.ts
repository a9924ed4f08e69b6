import { expect } from 'chai'
import { copyFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Mnemonic, decryptKeystoreJsonSync } from 'ethers'
import {
  InvalidAmountError, InvalidMnemonicError, MultipleWalletsError, PasswordMismatchError, PasswordUnavailableError, WALLET_PASSWORD_ENV,
  WalletExistsError, WalletLockedError, WalletNotFoundError, WalletService, WeakPasswordError, WrongPasswordError,
  deriveAccount, formatChi, generateMnemonic, getPassword, keystoreDir, listWallets, parseChi, parseMnemonic
} from '../../node/wallet/index.js'

/** The Hardhat/Anvil development phrase, whose first accounts every Ethereum developer knows. */
const TEST_PHRASE = 'test test test test test test test test test test test junk'
const ACCOUNT_0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const ACCOUNT_1 = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const PASSWORD = 'correct horse battery'
/** 2^12 instead of 2^17 keeps each scrypt run in milliseconds. */
const FAST = { scryptN: 2 ** 12 }

async function rejection (promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (err) {
    return err
  }
  throw new Error('expected a rejection')
}

function thrown (fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an exception')
}

describe('wallet', function () {
  this.timeout(30_000)
  let home: string

  beforeEach(async function () {
    home = await mkdtemp(join(tmpdir(), 'chiral-wallet-'))
  })

  afterEach(async function () {
    await rm(home, { recursive: true, force: true })
  })

  describe('BIP-39 / BIP-44 derivation', function () {
    it("derives the well-known accounts at m/44'/60'/0'/0/<index>", function () {
      const mnemonic = parseMnemonic(TEST_PHRASE)
      expect(deriveAccount(mnemonic).address).to.equal(ACCOUNT_0)
      expect(deriveAccount(mnemonic, 1).address).to.equal(ACCOUNT_1)
      expect(deriveAccount(mnemonic, 1).path).to.equal("m/44'/60'/0'/0/1")
    })

    it('accepts a phrase with odd spacing and capitals', function () {
      expect(deriveAccount(parseMnemonic(`  ${TEST_PHRASE.toUpperCase().replace(/ /g, ' \n ')}  `)).address).to.equal(ACCOUNT_0)
    })

    it('generates valid 12- and 24-word phrases, and no other length', function () {
      for (const words of [12, 24]) {
        const phrase = generateMnemonic(words).phrase
        expect(phrase.split(' ')).to.have.length(words)
        expect(Mnemonic.isValidMnemonic(phrase)).to.equal(true)
      }
      expect(generateMnemonic().phrase.split(' ')).to.have.length(12)
      expect(thrown(() => generateMnemonic(15))).to.have.property('code', 'INVALID_INPUT')
    })

    it('rejects a bad phrase with a clear error that does not repeat the words', function () {
      const cases: Array<[string, RegExp]> = [
        ['test test test test test test test test test test test test', /checksum/],
        ['test test test test test test test test test test test junkk', /word 12 is not in the BIP-39/],
        ['test test test', /3 words; expected 12/],
        ['', /0 words/]
      ]
      for (const [phrase, message] of cases) {
        const err = thrown(() => parseMnemonic(phrase))
        expect(err, phrase).to.be.instanceOf(InvalidMnemonicError)
        expect(err).to.have.property('code', 'INVALID_MNEMONIC')
        expect((err as Error).message).to.match(message)
        expect((err as Error).message).not.to.include('junk')
      }
    })
  })

  describe('WalletService', function () {
    it('creates a wallet that a restarted service unlocks with the same address', async function () {
      const first = new WalletService(home, FAST)
      expect(await first.exists()).to.equal(false)
      const created = await first.create({ password: PASSWORD })
      expect(created.mnemonic.split(' ')).to.have.length(12)
      expect(deriveAccount(parseMnemonic(created.mnemonic)).address).to.equal(created.address)
      expect(first.isUnlocked(), 'unlocked right after creation').to.equal(true)

      const restarted = new WalletService(home, FAST)
      expect(await restarted.exists()).to.equal(true)
      expect(await restarted.address(), 'address without the password').to.equal(created.address)
      expect(restarted.isUnlocked()).to.equal(false)
      expect(await restarted.unlock(PASSWORD)).to.deep.equal({ address: created.address })
      expect(restarted.signer().address).to.equal(created.address)
      expect(await restarted.exportMnemonic(PASSWORD)).to.deep.equal({ mnemonic: created.mnemonic, path: "m/44'/60'/0'/0/0" })
    })

    it('creates a 24-word wallet on request', async function () {
      const { mnemonic } = await new WalletService(home, FAST).create({ password: PASSWORD, words: 24 })
      expect(mnemonic.split(' ')).to.have.length(24)
    })

    it('imports a phrase at an account index and signs as that account', async function () {
      const service = new WalletService(home, FAST)
      expect(await service.import({ mnemonic: TEST_PHRASE, password: PASSWORD, index: 1 })).to.deep.equal({ address: ACCOUNT_1 })
      const signature = await service.signer().signMessage('hello')
      expect(signature).to.match(/^0x[0-9a-f]{130}$/)

      const restarted = new WalletService(home, FAST)
      await restarted.unlock(PASSWORD)
      expect(restarted.signer().address).to.equal(ACCOUNT_1)
      expect(await restarted.exportMnemonic(PASSWORD)).to.deep.equal({ mnemonic: TEST_PHRASE, path: "m/44'/60'/0'/0/1" })
    })

    it('refuses a wrong password with WrongPasswordError (401)', async function () {
      await new WalletService(home, FAST).import({ mnemonic: TEST_PHRASE, password: PASSWORD })
      const service = new WalletService(home, FAST)
      const err = await rejection(service.unlock('not the password'))
      expect(err).to.be.instanceOf(WrongPasswordError)
      expect(err).to.include({ code: 'WRONG_PASSWORD', httpStatus: 401 })
      expect(service.isUnlocked()).to.equal(false)
      expect(await rejection(service.exportMnemonic('not the password'))).to.be.instanceOf(WrongPasswordError)
    })

    it('refuses an invalid phrase on import and writes nothing', async function () {
      const service = new WalletService(home, FAST)
      const err = await rejection(service.import({ mnemonic: 'test test test test test test test test test test test test', password: PASSWORD }))
      expect(err).to.be.instanceOf(InvalidMnemonicError)
      expect(await service.exists()).to.equal(false)
    })

    it('refuses a short password on creation', async function () {
      const err = await rejection(new WalletService(home, FAST).create({ password: 'short' }))
      expect(err).to.be.instanceOf(WeakPasswordError)
    })

    it('writes a Web3 Secret Storage v3 (scrypt) keystore, mode 0600, named after the address', async function () {
      const { mnemonic } = await new WalletService(home, FAST).create({ password: PASSWORD })
      const files = await readdir(keystoreDir(home))
      expect(files, 'no temporary file left behind').to.have.length(1)
      const [name] = files
      const file = join(keystoreDir(home), name ?? '')
      expect(name).to.match(/^UTC--\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z--[0-9a-f]{40}$/)
      expect((await stat(file)).mode & 0o777).to.equal(0o600)
      expect((await stat(keystoreDir(home))).mode & 0o777).to.equal(0o700)

      const text = await readFile(file, 'utf8')
      const json = JSON.parse(text) as { version: number, address: string, crypto: { kdf: string, kdfparams: { n: number } }, 'x-ethers': { mnemonicCiphertext: string } }
      expect(json.version).to.equal(3)
      expect(json.crypto.kdf).to.equal('scrypt')
      expect(json.crypto.kdfparams.n).to.equal(FAST.scryptN)
      expect(name).to.include(json.address)
      expect(json['x-ethers'].mnemonicCiphertext, 'the phrase is stored, encrypted').to.match(/^[0-9a-f]+$/)
      expect(text, 'the phrase is not stored in clear').not.to.include(mnemonic.split(' ')[0])
      // ethers' synchronous decryption still uses its own JavaScript scrypt: a second implementation.
      expect(decryptKeystoreJsonSync(text, PASSWORD).address.toLowerCase()).to.equal(`0x${json.address}`)
    })

    it('refuses to replace a wallet without force, and keeps the old keystore when forced', async function () {
      const service = new WalletService(home, FAST)
      await service.import({ mnemonic: TEST_PHRASE, password: PASSWORD })
      const err = await rejection(service.import({ mnemonic: TEST_PHRASE, password: PASSWORD, index: 1 }))
      expect(err).to.be.instanceOf(WalletExistsError)
      expect(err).to.include({ code: 'WALLET_EXISTS', httpStatus: 409 })
      expect(await rejection(service.create({ password: PASSWORD }))).to.be.instanceOf(WalletExistsError)
      expect(await service.address()).to.equal(ACCOUNT_0)

      await service.import({ mnemonic: TEST_PHRASE, password: PASSWORD, index: 1, force: true })
      expect(await service.address()).to.equal(ACCOUNT_1)
      expect(service.signer().address).to.equal(ACCOUNT_1)
      expect((await listWallets(home)).map(wallet => wallet.address)).to.deep.equal([ACCOUNT_1])
      const replaced = await readdir(join(keystoreDir(home), 'replaced'))
      expect(replaced).to.have.length(1)
      expect(replaced[0]).to.include(ACCOUNT_0.slice(2).toLowerCase())
    })

    it('ignores other files in the keystore directory, and refuses to guess between two wallets', async function () {
      const service = new WalletService(home, FAST)
      await service.import({ mnemonic: TEST_PHRASE, password: PASSWORD })
      await writeFile(join(keystoreDir(home), 'notes.txt'), 'not a keystore')
      await writeFile(join(keystoreDir(home), '.half-written.tmp'), '{')
      expect(await service.address()).to.equal(ACCOUNT_0)

      const [wallet] = await listWallets(home)
      await copyFile(wallet?.file ?? '', join(keystoreDir(home), 'copy'))
      const err = await rejection(service.address())
      expect(err).to.be.instanceOf(MultipleWalletsError)
      expect(err).to.include({ code: 'MULTIPLE_WALLETS' })
    })

    it('keeps the signer only while unlocked', async function () {
      const service = new WalletService(home, FAST)
      expect(await rejection(service.address())).to.be.instanceOf(WalletNotFoundError)
      expect(await rejection(service.unlock(PASSWORD))).to.be.instanceOf(WalletNotFoundError)
      await service.import({ mnemonic: TEST_PHRASE, password: PASSWORD })
      service.lock()
      expect(service.isUnlocked()).to.equal(false)
      const err = thrown(() => service.signer())
      expect(err).to.be.instanceOf(WalletLockedError)
      expect(err).to.include({ code: 'WALLET_LOCKED', httpStatus: 423 })
    })

    it('stays locked when lock() comes while an unlock is still running', async function () {
      await new WalletService(home, FAST).import({ mnemonic: TEST_PHRASE, password: PASSWORD })
      const service = new WalletService(home, FAST)
      const unlocking = service.unlock(PASSWORD)
      service.lock()
      await unlocking
      expect(service.isUnlocked()).to.equal(false)
    })
  })

  describe('password', function () {
    it('takes the password from CHIRAL_WALLET_PASSWORD', async function () {
      expect(await getPassword('create', { env: { [WALLET_PASSWORD_ENV]: PASSWORD }, input: new PassThrough() })).to.equal(PASSWORD)
    })

    it('says to set CHIRAL_WALLET_PASSWORD when there is no terminal', async function () {
      const err = await rejection(getPassword('unlock', { env: {}, input: new PassThrough() }))
      expect(err).to.be.instanceOf(PasswordUnavailableError)
      expect((err as Error).message).to.include(WALLET_PASSWORD_ENV)
    })

    it('prompts on a terminal without echoing, and confirms a new password', async function () {
      const { input, output, written } = fakeTerminal(`${PASSWORD}\r${PASSWORD}\r`)
      expect(await getPassword('create', { env: {}, input, output })).to.equal(PASSWORD)
      expect(written()).to.include('Wallet password: ').and.include('Repeat the password: ')
      expect(written()).not.to.include(PASSWORD)
    })

    it('rejects a confirmation that differs', async function () {
      const { input, output } = fakeTerminal(`${PASSWORD}\rsomething else\r`)
      expect(await rejection(getPassword('create', { env: {}, input, output }))).to.be.instanceOf(PasswordMismatchError)
    })
  })

  describe('CHI amounts', function () {
    const WEI_PER_CHI = 10n ** 18n

    it('parses decimal CHI into exact wei', function () {
      expect(parseChi('1')).to.equal(WEI_PER_CHI)
      expect(parseChi('0.000000000000000001')).to.equal(1n)
      expect(parseChi('1.5')).to.equal(15n * WEI_PER_CHI / 10n)
      expect(parseChi('0')).to.equal(0n)
      expect(parseChi(' 2.25 ')).to.equal(225n * WEI_PER_CHI / 100n)
      expect(parseChi('123456789.123456789123456789')).to.equal(123456789123456789123456789n)
      // 0.1 + 0.2 is where float arithmetic would show.
      expect(parseChi('0.1') + parseChi('0.2')).to.equal(parseChi('0.3'))
    })

    it('rejects what is not a plain non-negative decimal of at most 18 places', function () {
      for (const text of ['1.0000000000000000001', '-1', '1e18', '', ' ', '.5', '1.', '0x10', '1,5', '1 000', 'NaN', 'Infinity', '+1', '١']) {
        const err = thrown(() => parseChi(text))
        expect(err, JSON.stringify(text)).to.be.instanceOf(InvalidAmountError)
        expect(err).to.include({ code: 'INVALID_AMOUNT', httpStatus: 400 })
      }
      expect((thrown(() => parseChi('1.0000000000000000001')) as Error).message).to.include('at most 18 decimals')
    })

    it('rejects amounts beyond a 256-bit balance', function () {
      const max = 2n ** 256n - 1n
      expect(parseChi(formatChi(max))).to.equal(max)
      expect(thrown(() => parseChi(formatChi(max + 1n)))).to.be.instanceOf(InvalidAmountError)
      expect(thrown(() => parseChi('9'.repeat(10_000)))).to.be.instanceOf(InvalidAmountError)
    })

    it('formats wei as exact CHI without trailing zeros', function () {
      expect(formatChi(WEI_PER_CHI)).to.equal('1')
      expect(formatChi(1n)).to.equal('0.000000000000000001')
      expect(formatChi(0n)).to.equal('0')
      expect(formatChi(15n * WEI_PER_CHI / 10n)).to.equal('1.5')
      expect(formatChi(-1n)).to.equal('-0.000000000000000001')
      expect(formatChi(123456789123456789123456789n)).to.equal('123456789.123456789123456789')
      for (const wei of [1n, 10n ** 17n, 999999999999999999n, 10n ** 30n + 7n]) expect(parseChi(formatChi(wei))).to.equal(wei)
    })
  })
})

/** A stream pair that passes for a TTY, typing `keystrokes` once the prompt is listening. */
function fakeTerminal (keystrokes: string): { input: PassThrough & { isTTY: true, setRawMode: () => void }, output: PassThrough, written: () => string } {
  const input = Object.assign(new PassThrough(), { isTTY: true as const, setRawMode: () => {} })
  const output = new PassThrough()
  const chunks: Buffer[] = []
  output.on('data', (chunk: Buffer) => { chunks.push(chunk) })
  setImmediate(() => { input.write(keystrokes) })
  return { input, output, written: () => Buffer.concat(chunks).toString('utf8') }
}
