import { expect } from 'chai'
import { JsonRpcProvider, id, parseEther, type Signer } from 'ethers'
import { join } from 'node:path'
import { MAX_TOTAL_INFLIGHT_CHUNKS } from '../../node/config/constants.js'
import { ESCROW_PREDEPLOY_ADDRESS } from '../../node/payments/deployments.js'
import { EscrowClient } from '../../node/payments/escrow-client.js'
import { costOf } from '../../node/payments/pricing.js'
import { signReceipt } from '../../node/payments/receipts.js'
import { currentWallet, unlockWallet } from '../../node/wallet/keystore.js'
import { nodeWalletPassword } from '../../node/wallet/node-password.js'
import {
  MiB, NON_PAYING_LEECHER_PATH, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, sleep, waitFor, watchSources,
  type Daemon, type DownloadView, type PeerView
} from './helpers/index.js'

/** Mining rewards of the seeders go here, so their wallet balances move only by payments and gas. */
const REWARD_SINK = '0x000000000000000000000000000000000000dEaD'
const PRICE_A = 10n ** 16n
const PRICE_B = 3n * 10n ** 16n
const FILE_SIZE = 24 * MiB
/** Seeders count a claim final at the depth this test waits for on the leecher's chain (see settled). */
const SEEDER_ENV = { CHIRAL_REDEEM_CONFIRMATIONS: '3' }

interface ChainTx { gasUsed: string, effectiveGasPrice: string, status: string, blockNumber: string }

/** Three miners fork often: a transaction counts once it is 3 blocks deep on the leecher's chain. */
async function settled (provider: JsonRpcProvider, hash: string): Promise<ChainTx> {
  return await waitFor(`${hash} to be 3 blocks deep`, async () => {
    const receipt = await provider.send('eth_getTransactionReceipt', [hash]) as ChainTx | null
    if (receipt == null) return undefined
    return await provider.getBlockNumber() >= Number(receipt.blockNumber) + 3 ? receipt : undefined
  }, { timeoutMs: 90_000, intervalMs: 250 })
}

async function rpcUrl (daemon: Daemon): Promise<string> {
  return (await daemon.ok<{ urls: { rpc: string } }>('GET', '/api/status')).urls.rpc
}

/** A node's wallet, unlocked from its own keystore and password file, as its operator could. */
async function unlockNodeWallet (daemon: Daemon, provider: JsonRpcProvider): Promise<Signer> {
  const password = nodeWalletPassword(daemon.home, {})
  if (password == null) throw new Error(`${daemon.name} has no wallet password file`)
  return (await unlockWallet((await currentWallet(daemon.home)).file, password)).connect(provider)
}

interface FileEarnings { cid: string, name: string, pendingWei: string, confirmingWei: string, redeemedWei: string, bytes: string }

async function earningsFor (daemon: Daemon, cid: string): Promise<FileEarnings | undefined> {
  const view = await daemon.ok<{ files: FileEarnings[] }>('GET', '/api/earnings')
  return view.files.find(file => file.cid === cid)
}

/** Waits until a file's earnings are all redeemed and final (its claim confirmed deep enough). */
async function finalEarnings (daemon: Daemon, cid: string): Promise<FileEarnings | undefined> {
  return await waitFor(`${daemon.name}'s claim on ${cid} to be final`, async () => {
    const file = await earningsFor(daemon, cid)
    return file != null && file.pendingWei === '0' && file.confirmingWei === '0' ? file : undefined
  }, { timeoutMs: 90_000, intervalMs: 250 })
}

async function walletOf (daemon: Daemon): Promise<string> {
  const { wallet } = await daemon.ok<{ wallet: string | null }>('GET', '/api/status')
  if (wallet == null) throw new Error(`${daemon.name} has no wallet`)
  return wallet
}

async function expectRejected (promise: Promise<unknown>, reason: RegExp): Promise<void> {
  const outcome = await promise.then(() => undefined, (err: unknown) => err)
  expect(outcome, 'the transaction was accepted').to.be.instanceOf(Error)
  expect((outcome as Error).message).to.match(reason)
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
    // Slow enough that a seeder the leecher's discovery finds a moment late still delivers a share.
    const seederOptions = { mine: true, genesis: 'dev', coinbase: REWARD_SINK, maxUploadRate: '2MiB', bootstrap: [leecher.bootstrapAddress], env: SEEDER_ENV }
    seederA = await network.start('seeder-a', seederOptions)
    seederB = await network.start('seeder-b', seederOptions)
    await leecher.waitForPeers(2)
    provider = new JsonRpcProvider(await rpcUrl(leecher), undefined, { staticNetwork: true, pollingInterval: 250 })
    const leecherWallet = await walletOf(leecher)
    await waitFor('the leecher to mine 5 CHI', async () => await provider.getBalance(leecherWallet) >= parseEther('5'), { timeoutMs: 180_000, intervalMs: 500 })
    for (const seeder of [seederA, seederB]) {
      await leecher.ok('POST', '/api/wallet/send', { to: await walletOf(seeder), amount: '0.5' })
    }
    await waitFor('both seeders to hold gas money', async () => {
      for (const seeder of [seederA, seederB]) if (await provider.getBalance(await walletOf(seeder)) === 0n) return false
      return true
    }, { timeoutMs: 120_000, intervalMs: 500 })
  })

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`daemon logs kept in ${await network.keepLogs(`payments ${this.currentTest.title}`)}`)
  })

  after(async function () {
    provider?.destroy()
    await network.cleanup()
  })

  it('pays each seeder exactly what the leecher signed for its verified bytes, over native and HTTP alike', async function () {
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
    // What the leecher signed for each seeder: its verified chunks, plus any chunk it raced
    // elsewhere and called off after that seeder had begun sending it (at most all in flight).
    const signed = new Map((await leecher.ok<Array<{ seeder: string, cumulativeAmount: string }>>('GET', '/api/escrows')).map(own => [own.seeder, BigInt(own.cumulativeAmount)]))
    const worthA = signed.get(await walletOf(seederA)) ?? 0n
    const worthB = signed.get(await walletOf(seederB)) ?? 0n
    for (const [seeder, worth, price] of [[seederA, worthA, PRICE_A], [seederB, worthB, PRICE_B]] as const) {
      expect(worth >= costOf(bytesFrom(seeder), price), `${seeder.name}'s verified bytes are paid for`).to.equal(true)
      expect(worth <= costOf(bytesFrom(seeder) + MAX_TOTAL_INFLIGHT_CHUNKS * MiB, price), `${seeder.name} is paid for at most the chunks in flight besides`).to.equal(true)
    }
    expect(bytesFrom(seederA) + bytesFrom(seederB)).to.equal(FILE_SIZE)
    expect(bytesFrom(seederA), 'seeder A delivered a share').to.be.greaterThan(0)
    expect(bytesFrom(seederB), 'seeder B delivered a share').to.be.greaterThan(0)

    const escrow = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, provider)
    const fees = new Map<Daemon, bigint>()
    for (const seeder of [seederA, seederB]) {
      const { txHashes } = await seeder.ok<{ txHashes: string[] }>('POST', '/api/earnings/claim', {})
      expect(txHashes, `${seeder.name} redeemed in one transaction`).to.have.length(1)
      const receipt = await settled(provider, txHashes[0] ?? '')
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

    await finalEarnings(seederA, cid)
    const earnings = await seederA.ok<{ redeemedWei: string, confirmingWei: string, pendingWei: string, files: FileEarnings[] }>('GET', '/api/earnings')
    expect(earnings.redeemedWei).to.equal(worthA.toString())
    expect(earnings.confirmingWei).to.equal('0')
    expect(earnings.pendingWei).to.equal('0')
    expect(earnings.files).to.deep.equal([{ cid, name: 'paid.bin', pendingWei: '0', confirmingWei: '0', redeemedWei: worthA.toString(), bytes: String(bytesFrom(seederA)) }])
  })

  it('keeps receipts across a kill -9 of the seeder and redeems them after the restart', async function () {
    const dir = await network.tempDir('crash-files')
    const original = await randomFile(dir, 'crash.bin', 6 * MiB)
    const cid = await addFile(seederA.home, original.path, ['--price', PRICE_A.toString()])
    const get = await chiral(leecher.home, ['get', cid, '-o', join(dir, 'crash-received.bin'), '--yes', '--max-price', PRICE_A.toString()], { timeoutMs: 300_000 })
    expect(get.code, describeResult(get)).to.equal(0)
    const held = await earningsFor(seederA, cid)
    const worth = costOf(6 * MiB, PRICE_A)
    expect(held).to.deep.equal({ cid, name: 'crash.bin', pendingWei: worth.toString(), confirmingWei: '0', redeemedWei: '0', bytes: String(6 * MiB) })

    await seederA.kill9()
    seederA = await network.start('seeder-a', { mine: true, genesis: 'dev', coinbase: REWARD_SINK, maxUploadRate: '2MiB', bootstrap: [leecher.bootstrapAddress], home: seederA.home, env: SEEDER_ENV })
    expect(await earningsFor(seederA, cid), 'the receipts survived kill -9').to.deep.equal(held)
    const wallet = await walletOf(seederA)
    const before = await provider.getBalance(wallet)
    const { txHashes } = await seederA.ok<{ txHashes: string[] }>('POST', '/api/earnings/claim', {})
    const receipt = await settled(provider, txHashes[0] ?? '')
    expect(await provider.getBalance(wallet) - before).to.equal(worth - BigInt(receipt.gasUsed) * BigInt(receipt.effectiveGasPrice))
    expect(await finalEarnings(seederA, cid)).to.deep.equal({ cid, name: 'crash.bin', pendingWei: '0', confirmingWei: '0', redeemedWei: worth.toString(), bytes: String(6 * MiB) })
  })

  it('keeps the price a download started with when the seeder raises it midway', async function () {
    const dir = await network.tempDir('price-files')
    const original = await randomFile(dir, 'repriced.bin', 16 * MiB)
    const cid = await addFile(seederB.home, original.path, ['--price', PRICE_B.toString()])
    const started = await leecher.api('POST', '/api/downloads', { cid, output: join(dir, 'repriced-received.bin'), maxCostWei: costOf(16 * MiB, PRICE_B).toString() })
    expect(started.status).to.equal(202)
    await waitFor('a quarter of the file', async () => (await leecher.ok<DownloadView>('GET', `/api/downloads/${cid}`)).bytesDone >= 4 * MiB, { timeoutMs: 60_000, intervalMs: 100 })
    expect(await addFile(seederB.home, original.path, ['--price', (PRICE_B * 10n).toString()])).to.equal(cid)
    await waitFor('the download to finish', async () => (await leecher.ok<DownloadView>('GET', `/api/downloads/${cid}`)).state === 'completed', { timeoutMs: 120_000, intervalMs: 200 })
    await expectIntactDownload(join(dir, 'repriced-received.bin'), original, cid)
    expect(await earningsFor(seederB, cid)).to.deep.include({ pendingWei: costOf(16 * MiB, PRICE_B).toString(), bytes: String(16 * MiB) })
  })

  it('rejects a seeder redeeming more than the leecher signed', async function () {
    const [own] = await leecher.ok<Array<{ escrowId: string, seeder: string, cumulativeAmount: string }>>('GET', '/api/escrows')
    if (own == null) throw new Error('the leecher has no escrow')
    const seeder = (await walletOf(seederA)) === own.seeder ? seederA : seederB
    const seederWallet = await unlockNodeWallet(seeder, provider)
    const leecherWallet = await unlockNodeWallet(leecher, provider)
    const client = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, seederWallet)
    const signed = await signReceipt(leecherWallet, await client.domain(), {
      escrowId: BigInt(own.escrowId), seeder: own.seeder, contentId: id('any file'), contentBytes: 1n, cumulativeAmount: BigInt(own.cumulativeAmount) + 1n
    })
    const inflated = { ...signed, message: { ...signed.message, cumulativeAmount: signed.message.cumulativeAmount + parseEther('0.05') } }
    await expectRejected(client.redeem(inflated), /InvalidSignature/)
  })

  it('cuts off a leecher that stops signing once the credit window is used', async function () {
    const dir = await network.tempDir('unpaid-files')
    const original = await randomFile(dir, 'unpaid.bin', 16 * MiB)
    const cid = await addFile(seederA.home, original.path, ['--price', PRICE_A.toString()])
    const freeloader = await network.start('freeloader', { genesis: 'dev', script: NON_PAYING_LEECHER_PATH, bootstrap: [leecher.bootstrapAddress] })
    await leecher.ok('POST', '/api/wallet/send', { to: await walletOf(freeloader), amount: '2' })
    const ownView = new JsonRpcProvider(await rpcUrl(freeloader), undefined, { staticNetwork: true })
    await waitFor('the freeloader to see its funds on its own chain', async () => await ownView.getBalance(await walletOf(freeloader)) > 0n, { timeoutMs: 120_000, intervalMs: 500 })
    ownView.destroy()
    const started = await freeloader.api('POST', '/api/downloads', { cid, output: join(dir, 'unpaid-received.bin'), maxCostWei: costOf(16 * MiB, PRICE_A).toString() })
    expect(started.status).to.equal(202)
    let last: DownloadView | undefined
    await waitFor('the credit window to be used', async () => {
      last = await freeloader.ok<DownloadView>('GET', `/api/downloads/${cid}`)
      return last.bytesDone >= 4 * MiB || last.state === 'failed'
    }, { timeoutMs: 120_000, intervalMs: 200 })
    await sleep(8_000)
    const download = await freeloader.ok<DownloadView>('GET', `/api/downloads/${cid}`)
    expect(download.state).to.not.equal('completed')
    if (download.state === 'failed') expect(download.error?.message).to.contain('payment required')
    expect(download.bytesDone, 'no more than the 4 MiB credit window').to.equal(4 * MiB)
    const served = (await seederA.ok<Array<{ cid: string, bytesServed: number }>>('GET', '/api/files')).find(file => file.cid === cid)
    // bytesServed also counts the manifest (547 bytes for 16 chunks), which is free.
    expect(served?.bytesServed).to.be.within(4 * MiB, 4 * MiB + 1024)
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
