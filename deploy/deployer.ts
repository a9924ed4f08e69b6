import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Provider, Signer } from 'ethers'
import { DEFAULT_HOME_DIRNAME } from '../node/config/constants.js'
import { WALLET_PASSWORD_ENV } from '../node/wallet/constants.js'
import { currentWallet, unlockWallet } from '../node/wallet/keystore.js'
import { nodeWalletPassword } from '../node/wallet/node-password.js'

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
  const { file } = await currentWallet(home)
  const password = nodeWalletPassword(home)
  if (password === undefined) throw new Error(`the node wallet is locked: set ${WALLET_PASSWORD_ENV}, or CHIRAL_DEPLOYER_KEY`)
  return (await unlockWallet(file, password)).connect(provider)
}
