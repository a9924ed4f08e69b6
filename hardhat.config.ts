import { subtask } from 'hardhat/config'
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from 'hardhat/builtin-tasks/task-names'
import type { HardhatUserConfig } from 'hardhat/types'
import '@nomicfoundation/hardhat-toolbox'
import solc from 'solc'

/** The compiler comes from the npm `solc` package: Hardhat's own download site is unreachable offline. */
const SOLC_VERSION = '0.8.30'

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return await runSuper()
  return {
    compilerPath: require.resolve('solc/soljson.js'),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: solc.version()
  }
})

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    // OpenZeppelin 5 uses mcopy, and the Chiral chain runs every fork through Cancun.
    settings: { evmVersion: 'cancun', optimizer: { enabled: true, runs: 1000 } }
  },
  paths: {
    sources: 'contracts',
    tests: 'test/contracts',
    cache: 'dist/hardhat-cache',
    artifacts: 'dist/artifacts'
  },
  typechain: { outDir: 'typechain-types', target: 'ethers-v6', node16Modules: true },
  networks: {
    // Lets a test put two transactions at the same second, to probe the expiry boundary from both sides.
    hardhat: { allowBlocksWithSameTimestamp: true },
    chiral: {
      url: process.env.CHIRAL_RPC_URL ?? 'http://127.0.0.1:8545',
      accounts: process.env.CHIRAL_DEPLOYER_KEY !== undefined ? [process.env.CHIRAL_DEPLOYER_KEY] : []
    }
  },
  mocha: { timeout: 60_000 }
}

export default config
