import { getCreateAddress } from 'ethers'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { GenesisSpec } from '../chain/genesis.js'
import { InvalidInputError } from '../util/errors.js'
import { DEPLOYMENTS_FILENAME, ESCROW_CONTRACT_NAME, PREDEPLOY_CREATOR } from './constants.js'

/** Where genesis places the escrow: the address a first contract creation by PREDEPLOY_CREATOR gets. */
export const ESCROW_PREDEPLOY_ADDRESS = getCreateAddress({ from: PREDEPLOY_CREATOR, nonce: 0 })

export type EscrowAddressSource = 'deployments' | 'genesis'

/**
 * The escrow this node uses on its chain: one recorded by `deploy/` in `<home>/deployments.json`
 * for this chain id wins; otherwise the genesis predeploy, when the genesis has one.
 */
export function resolveEscrowAddress (home: string, genesis: GenesisSpec): { address: string, source: EscrowAddressSource } | undefined {
  const file = join(home, DEPLOYMENTS_FILENAME)
  if (existsSync(file)) {
    let deployments: unknown
    try {
      deployments = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new InvalidInputError(`${file} is not valid JSON: ${(err as Error).message}`)
    }
    const address = (deployments as Record<string, Record<string, { address?: unknown } | undefined> | undefined>)[String(genesis.chainId)]?.[ESCROW_CONTRACT_NAME]?.address
    if (typeof address === 'string' && /^0x[0-9a-fA-F]{40}$/.test(address)) return { address, source: 'deployments' }
  }
  const predeployed = Object.keys(genesis.predeploys).find(address => address.toLowerCase() === ESCROW_PREDEPLOY_ADDRESS.toLowerCase())
  return predeployed === undefined ? undefined : { address: ESCROW_PREDEPLOY_ADDRESS, source: 'genesis' }
}
