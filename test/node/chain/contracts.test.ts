import { expect } from 'chai'
import { JsonRpcProvider, Wallet, getAddress, id as eventTopic, parseEther, zeroPadValue } from 'ethers'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ChiralEscrow__factory } from '../../../typechain-types/factories/contracts/ChiralEscrow__factory.js'
import { createChainCommon, loadGenesis } from '../../../node/chain/genesis.js'
import { predeployContract } from '../../../node/chain/predeploy.js'
import { DEPLOYMENTS_FILENAME, PREDEPLOY_CREATOR } from '../../../node/payments/constants.js'
import { ESCROW_PREDEPLOY_ADDRESS, resolveEscrowAddress } from '../../../node/payments/deployments.js'
import { EscrowClient } from '../../../node/payments/escrow-client.js'
import { REPO_ROOT, TestNetwork, cleanEnv, run, waitFor, type Daemon } from '../helpers/index.js'

/** Funded in the dev genesis: account 0 of the "test test ... junk" mnemonic. */
const FUNDED_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const SEEDER = getAddress('0x00000000000000000000000000000000005eed00')
const ESCROW_OPENED = eventTopic('EscrowOpened(uint256,address,address,uint256,uint64)')

async function rpcUrl (daemon: Daemon): Promise<string> {
  const { rpc } = await daemon.ok<{ rpc: { url: string } | null }>('GET', '/api/chain')
  if (rpc == null) throw new Error(`${daemon.name} serves no JSON-RPC`)
  return rpc.url
}

describe('escrow contract on the Chiral chain', function () {
  this.timeout(240_000)

  it('every built-in genesis predeploys exactly the compiled escrow', async function () {
    for (const name of ['chiral', 'dev']) {
      const spec = loadGenesis(name)
      const expected = await predeployContract(createChainCommon(spec), PREDEPLOY_CREATOR, ChiralEscrow__factory.bytecode)
      expect(expected.address.toLowerCase()).to.equal(ESCROW_PREDEPLOY_ADDRESS.toLowerCase())
      const { address, ...account } = expected
      expect(spec.predeploys[address], `genesis/${name}.json is stale: run npm run genesis`).to.deep.equal(account)
    }
  })

  describe('on a running mining node', function () {
    const network = new TestNetwork()
    let node: Daemon
    let provider: JsonRpcProvider

    before(async function () {
      node = await network.start('miner', { mine: true, genesis: 'dev' })
      provider = new JsonRpcProvider(await rpcUrl(node), undefined, { staticNetwork: true, pollingInterval: 250 })
    })

    after(async function () {
      provider.destroy()
      await network.cleanup()
    })

    it('answers through the predeployed escrow with this chain and address in its EIP-712 domain', async function () {
      expect(await provider.getCode(ESCROW_PREDEPLOY_ADDRESS)).to.not.equal('0x')
      const client = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, provider)
      const domain = await client.domain()
      expect(domain.chainId).to.equal(BigInt(loadGenesis('dev').chainId))
      expect(domain.verifyingContract).to.equal(ESCROW_PREDEPLOY_ADDRESS)
      expect(resolveEscrowAddress(node.home, loadGenesis('dev'))).to.deep.equal({ address: ESCROW_PREDEPLOY_ADDRESS, source: 'genesis' })
      const { contracts } = await node.ok<{ contracts: { escrow: unknown } }>('GET', '/api/chain')
      expect(contracts.escrow).to.deep.equal({ address: ESCROW_PREDEPLOY_ADDRESS, source: 'genesis' })
    })

    it('Hardhat (--network chiral) deploys with the node wallet; the contract takes calls and eth_getLogs finds its events', async function () {
      const { wallet } = await node.ok<{ wallet: string | null }>('GET', '/api/status')
      await waitFor('the node wallet to earn a block reward', async () => wallet != null && await provider.getBalance(wallet) > 0n, { timeoutMs: 60_000, intervalMs: 500 })

      const deploy = await run('npx', ['hardhat', 'run', 'deploy/deploy.ts', '--network', 'chiral'], {
        cwd: REPO_ROOT,
        timeoutMs: 180_000,
        env: cleanEnv({ CHIRAL_HOME: node.home, CHIRAL_RPC_URL: await rpcUrl(node) })
      })
      expect(deploy.code, deploy.stderr + deploy.stdout).to.equal(0)
      const deployments = JSON.parse(readFileSync(join(node.home, DEPLOYMENTS_FILENAME), 'utf8')) as Record<string, { ChiralEscrow: { address: string, blockNumber: number } }>
      const deployed = deployments[String(loadGenesis('dev').chainId)]?.ChiralEscrow
      expect(deployed?.address).to.match(/^0x[0-9a-fA-F]{40}$/)
      expect(deployed?.address).to.not.equal(ESCROW_PREDEPLOY_ADDRESS)
      expect(deploy.stdout).to.contain(deployed?.address)
      expect(resolveEscrowAddress(node.home, loadGenesis('dev'))).to.deep.equal({ address: deployed?.address, source: 'deployments' })

      const leecher = new Wallet(FUNDED_KEY, provider)
      const client = new EscrowClient(deployed?.address ?? '', leecher)
      const expiry = BigInt(Math.floor(Date.now() / 1000) + 3600)
      const { escrowId, transaction } = await client.open(SEEDER, parseEther('1'), expiry)
      expect(escrowId).to.equal(1n)
      expect(await client.escrow(escrowId)).to.deep.equal({ id: 1n, leecher: leecher.address, seeder: SEEDER, deposit: parseEther('1'), redeemed: 0n, expiry })

      const logs = await provider.getLogs({ address: deployed?.address, fromBlock: deployed?.blockNumber, toBlock: 'latest', topics: [ESCROW_OPENED] })
      expect(logs).to.have.length(1)
      expect(logs[0]?.transactionHash).to.equal(transaction.hash)
      expect(logs[0]?.topics).to.deep.equal([ESCROW_OPENED, zeroPadValue('0x01', 32), zeroPadValue(leecher.address, 32).toLowerCase(), zeroPadValue(SEEDER, 32).toLowerCase()])
      const event = client.contract.interface.parseLog(logs[0] ?? { topics: [], data: '0x' })
      expect(event?.args.deposit).to.equal(parseEther('1'))

      await node.stop()
      node = await network.start('miner', { mine: true, genesis: 'dev', home: node.home })
      const { contracts } = await node.ok<{ contracts: { escrow: unknown } }>('GET', '/api/chain')
      expect(contracts.escrow, 'a restarted node uses the deployed escrow').to.deep.equal({ address: deployed?.address, source: 'deployments' })
    })
  })
})
