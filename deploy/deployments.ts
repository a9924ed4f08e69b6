import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEPLOYMENTS_FILENAME } from '../node/payments/constants.js'

export interface DeployedContract {
  address: string
  transactionHash: string
  blockNumber: number
}

/** `{ "<chainId>": { "<contract name>": DeployedContract } }`, the shape node/payments/deployments.ts reads. */
export type Deployments = Record<string, Record<string, DeployedContract>>

export function deploymentsPath (home: string): string {
  return process.env.CHIRAL_DEPLOYMENTS ?? join(home, DEPLOYMENTS_FILENAME)
}

/** Adds one contract to the file, keeping every other chain's and contract's entry; written atomically. */
export function recordDeployment (file: string, chainId: bigint, name: string, deployed: DeployedContract): void {
  const all: Deployments = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Deployments : {}
  all[chainId.toString()] = { ...all[chainId.toString()], [name]: deployed }
  const temp = `${file}.tmp`
  writeFileSync(temp, JSON.stringify(all, null, 2) + '\n')
  renameSync(temp, file)
}
