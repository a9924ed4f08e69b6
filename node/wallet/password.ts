/**
 * Where the CLI gets the wallet password: CHIRAL_WALLET_PASSWORD for scripts and services, else a
 * hidden prompt on a terminal. Never a command-line argument, which other users can read in ps.
 */
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { MIN_PASSWORD_LENGTH, WALLET_PASSWORD_ENV } from './constants.js'
import { PasswordMismatchError, PasswordPromptCancelledError, PasswordUnavailableError, WeakPasswordError } from './errors.js'

/** "create" asks twice, since a mistyped new password locks the user out of the new wallet. */
export type PasswordPurpose = 'create' | 'unlock'

export interface PasswordSource {
  env?: NodeJS.ProcessEnv
  input?: NodeJS.ReadableStream & { isTTY?: boolean }
  /** The prompt goes to stderr by default so stdout stays clean for piped output. */
  output?: NodeJS.WritableStream
}

type Ask = (question: string) => Promise<string>

export async function getPassword (purpose: PasswordPurpose, source: PasswordSource = {}): Promise<string> {
  const fromEnv = (source.env ?? process.env)[WALLET_PASSWORD_ENV]
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  const input = source.input ?? process.stdin
  if (input.isTTY !== true) throw new PasswordUnavailableError()
  return await withHiddenPrompt(input, source.output ?? process.stderr, async ask => {
    const password = await ask('Wallet password: ')
    if (purpose === 'unlock') return password
    // Said now rather than after the second entry, which would be wasted.
    if (password.length < MIN_PASSWORD_LENGTH) throw new WeakPasswordError()
    if (await ask('Repeat the password: ') !== password) throw new PasswordMismatchError()
    return password
  })
}

/**
 * Reads lines from a terminal without echoing them: readline runs in terminal (raw) mode, which
 * does its own echo, and that echo goes to a stream that discards it. The questions are written
 * to the real output.
 */
async function withHiddenPrompt<T> (input: NodeJS.ReadableStream, output: NodeJS.WritableStream, use: (ask: Ask) => Promise<T>): Promise<T> {
  const discard = new Writable({ write: (_chunk, _encoding, done) => { done() } })
  // historySize 0: readline would otherwise keep every password typed in its history.
  const rl = createInterface({ input, output: discard, terminal: true, historySize: 0 })
  const lines = rl[Symbol.asyncIterator]()
  // In raw mode Ctrl-C arrives as a keystroke, not a signal, so it must be turned into a cancel here.
  const interrupted = new Promise<never>((_resolve, reject) => {
    rl.once('SIGINT', () => { reject(new PasswordPromptCancelledError()) })
  })
  const ask: Ask = async question => {
    output.write(question)
    try {
      const line = await Promise.race([lines.next(), interrupted])
      if (line.done === true) throw new PasswordPromptCancelledError()
      return line.value
    } finally {
      // The user's Enter or Ctrl-C was swallowed along with the echo.
      output.write('\n')
    }
  }
  try {
    return await use(ask)
  } finally {
    rl.close()
  }
}
