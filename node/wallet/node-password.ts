import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NODE_WALLET_PASSWORD_FILENAME, WALLET_PASSWORD_ENV } from './constants.js'

export function nodeWalletPasswordFile (home: string): string {
  return join(home, NODE_WALLET_PASSWORD_FILENAME)
}

/**
 * The password that unlocks the node wallet without a person: CHIRAL_WALLET_PASSWORD, else the
 * one the node wrote to `<home>/wallet-password` when it created its wallet. The Hardhat deploy
 * scripts load this file too (as CommonJS), so it imports only constants.
 */
export function nodeWalletPassword (home: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env[WALLET_PASSWORD_ENV]
  if (fromEnv != null && fromEnv !== '') return fromEnv
  const file = nodeWalletPasswordFile(home)
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined
}
