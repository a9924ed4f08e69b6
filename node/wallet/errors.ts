import { ChiralError } from '../util/errors.js'
import { MIN_PASSWORD_LENGTH, REPLACED_KEYSTORE_DIRNAME, WALLET_PASSWORD_ENV } from './constants.js'

export class WrongPasswordError extends ChiralError {
  constructor () {
    super('WRONG_PASSWORD', 'wrong wallet password', 401)
  }
}

export class WalletLockedError extends ChiralError {
  constructor () {
    super('WALLET_LOCKED', 'the wallet is locked; unlock it with its password first', 423)
  }
}

export class WalletNotFoundError extends ChiralError {
  constructor (dir: string) {
    super('NO_WALLET', `no wallet in ${dir}; create or import one first`, 404)
  }
}

export class WalletExistsError extends ChiralError {
  constructor (address: string, dir: string) {
    super('WALLET_EXISTS', `a wallet (${address}) already exists in ${dir}; use force to replace it (the old keystore is kept in ${dir}/${REPLACED_KEYSTORE_DIRNAME})`, 409)
  }
}

export class MultipleWalletsError extends ChiralError {
  constructor (dir: string, count: number) {
    super('MULTIPLE_WALLETS', `${dir} holds ${count} wallets; the node uses one, so move the others out of that directory`, 409)
  }
}

export class InvalidMnemonicError extends ChiralError {
  constructor (reason: string) {
    super('INVALID_MNEMONIC', `invalid recovery phrase: ${reason}`)
  }
}

export class NoMnemonicError extends ChiralError {
  constructor (file: string) {
    super('NO_MNEMONIC', `the keystore ${file} holds a key but no recovery phrase`, 404)
  }
}

export class KeystoreCorruptError extends ChiralError {
  constructor (file: string, detail: string) {
    super('KEYSTORE_CORRUPT', `cannot read the keystore ${file}: ${detail}`, 500)
  }
}

export class WeakPasswordError extends ChiralError {
  constructor () {
    super('WEAK_PASSWORD', `the wallet password must be at least ${MIN_PASSWORD_LENGTH} characters long`)
  }
}

export class PasswordUnavailableError extends ChiralError {
  constructor () {
    super('PASSWORD_REQUIRED', `no wallet password: set ${WALLET_PASSWORD_ENV} or run from an interactive terminal`)
  }
}

export class PasswordMismatchError extends ChiralError {
  constructor () {
    super('PASSWORD_MISMATCH', 'the two passwords differ; try again')
  }
}

export class PasswordPromptCancelledError extends ChiralError {
  constructor () {
    super('PASSWORD_CANCELLED', 'password entry cancelled')
  }
}

export class InvalidAmountError extends ChiralError {
  constructor (input: string, hint: string) {
    const shown = input.length > 80 ? `${input.slice(0, 77)}...` : input
    super('INVALID_AMOUNT', `invalid CHI amount "${shown}": ${hint}`)
  }
}
