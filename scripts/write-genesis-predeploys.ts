import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ChiralEscrow__factory } from '../typechain-types/factories/contracts/ChiralEscrow__factory.js'
import { createChainCommon, loadGenesis } from '../node/chain/genesis.js'
import { predeployContract } from '../node/chain/predeploy.js'
import { PREDEPLOY_CREATOR } from '../node/payments/constants.js'

/**
 * Puts the compiled escrow into the predeploys of every built-in genesis. Rerun after changing the
 * contract (`npm run genesis`); a test fails while a genesis holds stale code. Changing it changes
 * the genesis hash, i.e. starts a new network.
 */
const GENESIS_NAMES = ['chiral', 'dev']

for (const name of GENESIS_NAMES) {
  const spec = loadGenesis(name)
  const escrow = await predeployContract(createChainCommon(spec), PREDEPLOY_CREATOR, ChiralEscrow__factory.bytecode)
  const { address, ...account } = escrow
  spec.predeploys = { [address]: account }
  const file = fileURLToPath(new URL(`../../genesis/${name}.json`, import.meta.url))
  writeFileSync(file, JSON.stringify(spec, null, 2) + '\n')
  console.log(`${name}: ChiralEscrow predeployed at ${address} (${(account.code.length - 2) / 2} bytes of code, ${Object.keys(account.storage).length} storage slots)`)
}
