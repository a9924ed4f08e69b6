import { CHI_DECIMALS, MAX_WEI } from './constants.js'
import { InvalidAmountError } from './errors.js'

const WEI_PER_CHI = 10n ** BigInt(CHI_DECIMALS)
/** Plain decimals only: no sign, exponent, grouping or bare point, so "1e18" cannot mean 1e18 CHI by accident. */
const CHI_AMOUNT = /^(\d+)(?:\.(\d+))?$/
const MAX_WHOLE_DIGITS = MAX_WEI.toString().length

/**
 * "1.5" CHI -> 1500000000000000000n wei, exactly (integer arithmetic on the digits; ethers'
 * parseUnits would also accept "-1").
 */
export function parseChi (text: string): bigint {
  const match = CHI_AMOUNT.exec(text.trim())
  if (match === null) throw new InvalidAmountError(text, 'give a non-negative decimal number such as 1 or 0.25')
  const whole = match[1] ?? ''
  const fraction = match[2] ?? ''
  if (fraction.length > CHI_DECIMALS) {
    throw new InvalidAmountError(text, `at most ${CHI_DECIMALS} decimals (the smallest amount is 1 wei = 0.${'0'.repeat(CHI_DECIMALS - 1)}1 CHI)`)
  }
  // Checked before BigInt() so an absurdly long input fails fast.
  const wei = whole.length > MAX_WHOLE_DIGITS ? MAX_WEI + 1n : BigInt(whole) * WEI_PER_CHI + BigInt(fraction.padEnd(CHI_DECIMALS, '0'))
  if (wei > MAX_WEI) throw new InvalidAmountError(text, 'too large for a 256-bit balance')
  return wei
}

/** 1500000000000000000n wei -> "1.5": every wei shown, no trailing zeros, no exponent. */
export function formatChi (wei: bigint): string {
  const sign = wei < 0n ? '-' : ''
  const magnitude = wei < 0n ? -wei : wei
  const fraction = (magnitude % WEI_PER_CHI).toString().padStart(CHI_DECIMALS, '0').replace(/0+$/, '')
  return `${sign}${magnitude / WEI_PER_CHI}${fraction === '' ? '' : `.${fraction}`}`
}
