import { Common, type ChainConfig, type GenesisState } from '@ethereumjs/common'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { existsSync, readFileSync } from 'node:fs'
import { InvalidInputError } from '../util/errors.js'
import type { DifficultyRule } from './difficulty.js'

const Quantity = Type.String({ pattern: '^(0x[0-9a-fA-F]+|[0-9]+)$' })
const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' })
const Hex = Type.String({ pattern: '^0x([0-9a-fA-F]{2})*$' })

const Account = Type.Object({
  balance: Quantity,
  code: Type.Optional(Hex),
  storage: Type.Optional(Type.Record(Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }), Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }))),
  nonce: Type.Optional(Quantity)
}, { additionalProperties: false })

/** The network's genesis, as kept in `genesis/<name>.json`. */
export const GenesisSpecSchema = Type.Object({
  name: Type.String(),
  chainId: Type.Integer({ minimum: 1 }),
  currency: Type.Object({ name: Type.String(), symbol: Type.String(), decimals: Type.Literal(18) }),
  targetBlockTimeSeconds: Type.Integer({ minimum: 1, maximum: 60 }),
  difficulty: Type.Object({ genesis: Quantity, minimum: Quantity, adjustmentDivisor: Type.Integer({ minimum: 2 }) }),
  blockReward: Quantity,
  gasLimit: Quantity,
  timestamp: Quantity,
  extraData: Hex,
  alloc: Type.Record(Address, Account),
  /** Contracts placed at fixed addresses at genesis, so a fresh network needs no deploy step. */
  predeploys: Type.Record(Address, Account)
}, { additionalProperties: false })

export type GenesisSpec = Static<typeof GenesisSpecSchema>

/** Every fork through Cancun from block 0, and never Paris: the chain stays proof of work. */
const HARDFORKS = [
  'chainstart', 'homestead', 'tangerineWhistle', 'spuriousDragon', 'byzantium', 'constantinople', 'petersburg',
  'istanbul', 'muirGlacier', 'berlin', 'london', 'arrowGlacier', 'grayGlacier', 'shanghai', 'cancun'
]
const ACTIVE_HARDFORK = 'cancun'

export function loadGenesis (nameOrPath: string): GenesisSpec {
  const path = /^[a-z0-9-]+$/.test(nameOrPath) ? new URL(`../../../genesis/${nameOrPath}.json`, import.meta.url) : nameOrPath
  if (!existsSync(path)) throw new InvalidInputError(`no genesis "${nameOrPath}" (built in: chiral, dev; or a path to a genesis JSON file)`)
  const spec = JSON.parse(readFileSync(path, 'utf8')) as unknown
  const error = Value.Errors(GenesisSpecSchema, spec).First()
  if (error != null) throw new InvalidInputError(`invalid genesis ${String(path)} at ${error.path}: ${error.message}`)
  return spec as GenesisSpec
}

export function createChainCommon (spec: GenesisSpec): Common {
  const chain: ChainConfig = {
    name: spec.name,
    chainId: spec.chainId,
    defaultHardfork: ACTIVE_HARDFORK,
    genesis: {
      gasLimit: toHexQuantity(spec.gasLimit),
      difficulty: toHexQuantity(spec.difficulty.genesis),
      nonce: '0x0000000000000000',
      extraData: spec.extraData as `0x${string}`,
      timestamp: toHexQuantity(spec.timestamp)
    },
    hardforks: HARDFORKS.map(name => ({ name, block: 0 })),
    bootstrapNodes: [],
    consensus: { type: 'pow', algorithm: 'ethash', ethash: {} }
  }
  // Overrides are keyed by the active hardfork: EIP-keyed ones get merged back to the library
  // defaults whenever a header or VM is created, hardfork-keyed ones are applied last.
  return new Common({
    chain,
    hardfork: ACTIVE_HARDFORK,
    params: {
      [ACTIVE_HARDFORK]: {
        minimumDifficulty: Number(spec.difficulty.minimum),
        minerReward: BigInt(spec.blockReward).toString()
      }
    }
  })
}

export function difficultyRule (spec: GenesisSpec): DifficultyRule {
  return {
    targetBlockTimeSeconds: spec.targetBlockTimeSeconds,
    minimum: BigInt(spec.difficulty.minimum),
    adjustmentDivisor: BigInt(spec.difficulty.adjustmentDivisor)
  }
}

/** Allocations and predeployed contracts in the form createBlockchain takes. */
export function genesisState (spec: GenesisSpec): GenesisState {
  const state: GenesisState = {}
  for (const [address, account] of Object.entries({ ...spec.alloc, ...spec.predeploys })) {
    state[address.toLowerCase() as `0x${string}`] = [
      toHexQuantity(account.balance),
      (account.code ?? '0x') as `0x${string}`,
      Object.entries(account.storage ?? {}) as Array<[`0x${string}`, `0x${string}`]>,
      toHexQuantity(account.nonce ?? '0')
    ]
  }
  return state
}

function toHexQuantity (value: string): `0x${string}` {
  return `0x${BigInt(value).toString(16)}`
}
