import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { Wallet, type Provider, type Signer } from 'ethers'
import { DEFAULT_HOME_DIRNAME } from '../node/config/constants.js'
import { KEYSTORE_DIRNAME, NODE_WALLET_PASSWORD_FILENAME, WALLET_PASSWORD_ENV } from '../node/wallet/constants.js'

export function chiralHome (): string {
  return resolve(process.env.CHIRAL_HOME ?? join(homedir(), DEFAULT_HOME_DIRNAME))
}

/**
 * The account that deploys: the first account Hardhat has for the network (CHIRAL_DEPLOYER_KEY),
 * otherwise the node's own wallet, unlocked with CHIRAL_WALLET_PASSWORD or the node's password file.
 */
export async function loadDeployer (configured: Signer[], provider: Provider, home = chiralHome()): Promise<Signer> {
  const [first] = configured
  if (first !== undefined) return first
  const dir = join(home, KEYSTORE_DIRNAME)
  const keystores = existsSync(dir) ? readdirSync(dir, { withFileTypes: true }).filter(e => e.isFile() && !e.name.startsWith('.')) : []
  const [keystore] = keystores
  if (keystore === undefined || keystores.length > 1) {
    throw new Error(`no deployer: set CHIRAL_DEPLOYER_KEY, or point CHIRAL_HOME at a node with exactly one wallet (found ${keystores.length} in ${dir})`)
  }
  const passwordFile = join(home, NODE_WALLET_PASSWORD_FILENAME)
  const password = process.env[WALLET_PASSWORD_ENV] ?? (existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : undefined)
  if (password === undefined) throw new Error(`the node wallet is locked: set ${WALLET_PASSWORD_ENV}`)
  const wallet = await Wallet.fromEncryptedJson(readFileSync(join(dir, keystore.name), 'utf8'), password)
  return wallet.connect(provider)
}
