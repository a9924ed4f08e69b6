import { expect } from 'chai'
import { JsonRpcProvider, parseEther } from 'ethers'
import { join } from 'node:path'
import { ESCROW_PREDEPLOY_ADDRESS } from '../../node/payments/deployments.js'
import { EscrowClient } from '../../node/payments/escrow-client.js'
import { costOf } from '../../node/payments/pricing.js'
import {
  MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, waitFor, watchSources,
  type Daemon, type PeerView
} from './helpers/index.js'

/** Mining rewards of the seeders go here, so their wallet balances move only by payments and gas. */
const REWARD_SINK = '0x000000000000000000000000000000000000dEaD'
const PRICE_A = 10n ** 16n
const PRICE_B = 3n * 10n ** 16n
const FILE_SIZE = 24 * MiB

interface ChainTx { gasUsed: string, effectiveGasPrice: string, status: string }

async function rpcUrl (daemon: Daemon): Promise<string> {
  return (await daemon.ok<{ urls: { rpc: string } }>('GET', '/api/status')).urls.rpc
}

async function walletOf (daemon: Daemon): Promise<string> {
  const { wallet } = await daemon.ok<{ wallet: string | null }>('GET', '/api/status')
  if (wallet == null) throw new Error(`${daemon.name} has no wallet`)
  return wallet
}

describe('paid downloads on a 3-node mining chain', function () {
  this.timeout(600_000)
  const network = new TestNetwork()
  let leecher: Daemon
  let seederA: Daemon
  let seederB: Daemon
  let provider: JsonRpcProvider

  before(async function () {
    this.timeout(300_000)
    leecher = await network.start('leecher', { mine: true, genesis: 'dev' })
    const seederOptions = { mine: true, genesis: 'dev', coinbase: REWARD_SINK, maxUploadRate: '4MiB', bootstrap: [leecher.bootstrapAddress] }
    seederA = await network.start('seeder-a', seederOptions)
    seederB = await network.start('seeder-b', seederOptions)
    await leecher.waitForPeers(2)
    provider = new JsonRpcProvider(await rpcUrl(leecher), undefined, { staticNetwork: true, pollingInterval: 250 })
    const leecherWallet = await walletOf(leecher)
    await waitFor('the leecher to mine 3 CHI', async () => await provider.getBalance(leecherWallet) >= parseEther('3'), { timeoutMs: 180_000, intervalMs: 500 })
    for (const seeder of [seederA, seederB]) {
      await leecher.ok('POST', '/api/wallet/send', { to: await walletOf(seeder), amount: '0.5' })
    }
    await waitFor('both seeders to hold gas money', async () => {
      for (const seeder of [seederA, seederB]) if (await provider.getBalance(await walletOf(seeder)) === 0n) return false
      return true
    }, { timeoutMs: 120_000, intervalMs: 500 })
  })

  after(async function () {
    provider?.destroy()
    await network.cleanup()
  })

  it('pays each seeder exactly what its verified bytes are worth, over native and HTTP alike', async function () {
    const dir = await network.tempDir('files')
    const original = await randomFile(dir, 'paid.bin', FILE_SIZE)
    const cid = await addFile(seederA.home, original.path, ['--price', PRICE_A.toString()])
    expect(await addFile(seederB.home, original.path, ['--price', PRICE_B.toString()])).to.equal(cid)
    const walletA = await walletOf(seederA)
    const walletB = await walletOf(seederB)
    const before = { a: await provider.getBalance(walletA), b: await provider.getBalance(walletB) }

    const quote = await leecher.ok<{ totalCostWei: string, seeders: Array<{ pricePerMiB: string }> }>('POST', '/api/downloads/quote', { cid })
    expect(BigInt(quote.totalCostWei)).to.equal(costOf(FILE_SIZE, PRICE_B))
    expect(quote.seeders.map(s => s.pricePerMiB).sort()).to.deep.equal([PRICE_A.toString(), PRICE_B.toString()].sort())

    const output = join(dir, 'received.bin')
    const watcher = watchSources(leecher, cid)
    const get = await chiral(leecher.home, ['get', cid, '-o', output, '--yes'], { timeoutMs: 300_000 })
    const sources = await watcher.stop()
    expect(get.code, describeResult(get)).to.equal(0)
    await expectIntactDownload(output, original, cid)
    const httpBytes = [...sources.values()].filter(source => source.transport === 'http').reduce((sum, source) => sum + source.bytes, 0)
    const nativeBytes = [...sources.values()].filter(source => source.transport === 'native').reduce((sum, source) => sum + source.bytes, 0)
    expect(httpBytes, 'some bytes came over HTTP').to.be.greaterThan(0)
    expect(nativeBytes, 'some bytes came over the native protocol').to.be.greaterThan(0)

    const peers = await leecher.ok<PeerView[]>('GET', '/api/peers')
    const peerIds = new Map([[seederA, (await seederA.status()).peerId], [seederB, (await seederB.status()).peerId]])
    const bytesFrom = (daemon: Daemon): number => peers.find(peer => peer.peerId === peerIds.get(daemon))?.bytesDownloaded ?? 0
    const worthA = costOf(bytesFrom(seederA), PRICE_A)
    const worthB = costOf(bytesFrom(seederB), PRICE_B)
    expect(bytesFrom(seederA) + bytesFrom(seederB)).to.equal(FILE_SIZE)

    const escrow = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, provider)
    const fees = new Map<Daemon, bigint>()
    for (const seeder of [seederA, seederB]) {
      const { txHashes } = await seeder.ok<{ txHashes: string[] }>('POST', '/api/earnings/claim', {})
      expect(txHashes, `${seeder.name} redeemed in one transaction`).to.have.length(1)
      const receipt = await waitFor('the claim to reach the leecher\'s chain', async () => (await provider.send('eth_getTransactionReceipt', [txHashes[0]]) as ChainTx | null) ?? undefined, { timeoutMs: 60_000, intervalMs: 250 })
      expect(receipt.status).to.equal('0x1')
      fees.set(seeder, BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice))
    }
    const after = { a: await provider.getBalance(walletA), b: await provider.getBalance(walletB) }
    expect(after.a - before.a).to.equal(worthA - (fees.get(seederA) ?? 0n))
    expect(after.b - before.b).to.equal(worthB - (fees.get(seederB) ?? 0n))

    const own = await leecher.ok<Array<{ escrowId: string, deposit: string }>>('GET', '/api/escrows')
    expect(own).to.have.length(2)
    let redeemed = 0n
    for (const { escrowId, deposit } of own) {
      const state = await escrow.escrow(BigInt(escrowId))
      expect(state.deposit).to.equal(BigInt(deposit))
      redeemed += state.redeemed
    }
    expect(redeemed, 'the escrows fell by exactly what the seeders received').to.equal(worthA + worthB)

    const earnings = await seederA.ok<{ redeemedWei: string, pendingWei: string, files: Array<{ cid: string, bytes: string }> }>('GET', '/api/earnings')
    expect(earnings.redeemedWei).to.equal(worthA.toString())
    expect(earnings.pendingWei).to.equal('0')
    expect(earnings.files).to.deep.equal([{ cid, pendingWei: '0', redeemedWei: worthA.toString(), bytes: String(bytesFrom(seederA)) }])
  })

  it('refuses a leecher without funds before any byte moves', async function () {
    const dir = await network.tempDir('broke-files')
    const original = await randomFile(dir, 'dear.bin', 2 * MiB)
    const cid = await addFile(seederA.home, original.path, ['--price', PRICE_A.toString()])
    const broke = await network.start('broke', { genesis: 'dev', bootstrap: [leecher.bootstrapAddress] })
    await broke.waitForPeers(1)
    const get = await chiral(broke.home, ['get', cid, '-o', join(dir, 'never.bin'), '--yes'], { timeoutMs: 120_000 })
    expect(get.code, describeResult(get)).to.not.equal(0)
    expect(get.stderr).to.match(/holds 0 wei but this download needs \d+ wei in escrow/)
    const download = await broke.ok<{ bytesDone: number, state: string }>('GET', `/api/downloads/${cid}`)
    expect(download).to.include({ bytesDone: 0, state: 'failed' })
  })
})
