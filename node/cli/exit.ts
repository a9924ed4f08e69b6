import { ChiralError, errorMessage } from '../util/errors.js'

/** Exit codes a script can tell apart; every other failure exits 1. */
const EXIT_CODES: Record<string, number> = {
  INVALID_INPUT: 2,
  INVALID_AMOUNT: 2,
  INVALID_MNEMONIC: 2,
  WEAK_PASSWORD: 2,
  PASSWORD_REQUIRED: 2,
  WRONG_PASSWORD: 6,
  NO_WALLET: 6,
  WALLET_LOCKED: 6,
  INVALID_CID: 2,
  FILE_NOT_FOUND: 2,
  NOT_A_FILE: 2,
  DAEMON_NOT_RUNNING: 3,
  NO_SEEDERS: 4,
  DISK_FULL: 5
}

/** Ends a failed command: one line on stderr, and the exit code of the error's kind. */
export function exitWithError (err: unknown): never {
  const code = err instanceof ChiralError ? err.code : 'ERROR'
  process.stderr.write(`error: ${errorMessage(err)}\n`)
  process.exit(EXIT_CODES[code] ?? 1)
}
