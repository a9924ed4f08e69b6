// Stands in for @base-org/account (see next.config.ts): only injected wallets are offered.
export function createBaseAccountSDK (): never {
  throw new Error('Base Account is not available in the Chiral dashboard')
}
