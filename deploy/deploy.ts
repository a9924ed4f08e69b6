import hre from 'hardhat'
import { ChiralEscrow__factory } from '../typechain-types/factories/contracts/ChiralEscrow__factory.js'
import { ESCROW_CONTRACT_NAME } from '../node/payments/constants.js'
import { chiralHome, loadDeployer } from './deployer.js'
import { deploymentsPath, recordDeployment } from './deployments.js'

/**
 * Deploys the escrow to the network Hardhat was given (`--network chiral`), checks that it answers
 * with the expected EIP-712 domain, and records its address for the node.
 */
async function main (): Promise<void> {
  const { ethers } = hre
  const home = chiralHome()
  const deployer = await loadDeployer(await ethers.getSigners(), ethers.provider, home)
  const { chainId } = await ethers.provider.getNetwork()
  console.log(`deploying ${ESCROW_CONTRACT_NAME} to chain ${chainId} from ${await deployer.getAddress()}`)

  const escrow = await new ChiralEscrow__factory(deployer).deploy()
  const deployment = escrow.deploymentTransaction()
  if (deployment === null) throw new Error('the deployment transaction is missing')
  const receipt = await deployment.wait()
  if (receipt === null || receipt.contractAddress === null) throw new Error(`deployment ${deployment.hash} has no receipt`)

  const domain = await escrow.eip712Domain()
  if (domain.chainId !== chainId || domain.verifyingContract !== receipt.contractAddress) {
    throw new Error(`the deployed escrow reports chain ${domain.chainId} and address ${domain.verifyingContract}`)
  }

  const file = deploymentsPath(home)
  recordDeployment(file, chainId, ESCROW_CONTRACT_NAME, {
    address: receipt.contractAddress,
    transactionHash: receipt.hash,
    blockNumber: receipt.blockNumber
  })
  console.log(`${ESCROW_CONTRACT_NAME} ${receipt.contractAddress} (block ${receipt.blockNumber}, gas ${receipt.gasUsed}); recorded in ${file}`)
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err)
  process.exitCode = 1
})
