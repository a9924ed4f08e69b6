import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import type { Logger } from '../util/log.js'
import { WALLET_PASSWORD_ENV } from './constants.js'
import { nodeWalletPassword, nodeWalletPasswordFile } from './node-password.js'
import { WalletService } from './wallet-service.js'

/**
 * The wallet a daemon runs with, unlocked, so it can mine to it and (later) sign receipts and
 * claims unattended. An existing wallet is unlocked with CHIRAL_WALLET_PASSWORD or the password
 * file; on a first start without one, the node creates a wallet with a random password kept in
 * `<home>/wallet-password` (mode 0600), like a node key. `chiral wallet export-mnemonic` backs it up.
 */
export async function openNodeWallet (home: string, log: Logger, env: NodeJS.ProcessEnv = process.env): Promise<WalletService> {
  const wallet = new WalletService(home)
  if (await wallet.exists()) {
    const password = nodeWalletPassword(home, env)
    if (password == null) {
      log.warn(`wallet is locked: set ${WALLET_PASSWORD_ENV} or unlock it through the API`)
      return wallet
    }
    await wallet.unlock(password)
    return wallet
  }
  let password = env[WALLET_PASSWORD_ENV]
  if (password == null || password === '') {
    password = randomBytes(24).toString('base64url')
    writeFileSync(nodeWalletPasswordFile(home), password + '\n', { mode: 0o600, flag: 'wx' })
  }
  const { address } = await wallet.create({ password })
  log.info({ address }, 'created the node wallet; back up its recovery phrase with: chiral wallet export-mnemonic')
  return wallet
}
