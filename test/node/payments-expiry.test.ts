import { expect } from 'chai'
import { JsonRpcProvider, Wallet, parseEther } from 'ethers'
import { join } from 'node:path'
import { ESCROW_SERVE_MARGIN_SECONDS, MIN_ESCROW_REMAINING_SECONDS, SETTLEMENT_GRACE_SECONDS } from '../../node/payments/constants.js'
import { ESCROW_PREDEPLOY_ADDRESS } from '../../node/payments/deployments.js'
import { EscrowClient } from '../../node/payments/escrow-client.js'
import { costOf } from '../../node/payments/pricing.js'
import { MiB, TestNetwork, addFile, expectIntactDownload, randomFile, waitFor, type Daemon, type DownloadView } from './helpers/index.js'

/** A dev genesis account (Hardhat's first well-known key), funded with a million CHI. */
const FUNDER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const PRICE = 10n ** 16n
const FILE_SIZE = 2 * MiB

/**
 * An escrow's whole life on a real mining dev chain, with nobody asking: the seeder redeems
 * before the escrow expires, and the leecher takes the rest back once the grace has passed.
 * It takes minutes of chain time by design (the contract's grace and the seeder's margin are
 * fixed), so it lives apart from the paid-download suite.
 */
describe('an escrow that expires', function () {
  this.timeout(600_000)
  const network = new TestNetwork()
  let seeder: Daemon
  let provider: JsonRpcProvider

  before(async function () {
    this.timeout(120_000)
    seeder = await network.start('seeder', { mine: true, genesis: 'dev' })
    const status = await seeder.ok<{ urls: { rpc: string } }>('GET', '/api/status')
    provider = new JsonRpcProvider(status.urls.rpc, undefined, { staticNetwork: true, pollingInterval: 250 })
  })

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.log(`daemon logs kept in ${await network.keepLogs(`payments-expiry ${this.currentTest.title}`)}`)
  })

  after(async function () {
    provider?.destroy()
    await network.cleanup()
  })

  it('redeems by itself before an escrow expires, and the leecher takes the rest back by itself after', async function () {
    const dir = await network.tempDir('expiry-files')
    const original = await randomFile(dir, 'short.bin', FILE_SIZE)
    const cid = await addFile(seeder.home, original.path, ['--price', PRICE.toString()])
    // Seeders open sessions only on escrows that live MIN_ESCROW_REMAINING_SECONDS more.
    const leecher = await network.start('short-lived', { genesis: 'dev', env: { CHIRAL_ESCROW_DURATION_SECONDS: String(MIN_ESCROW_REMAINING_SECONDS + 30) }, bootstrap: [seeder.bootstrapAddress] })
    const { wallet } = await leecher.ok<{ wallet: string }>('GET', '/api/status')
    await (await new Wallet(FUNDER_KEY, provider).sendTransaction({ to: wallet, value: parseEther('2') })).wait()
    const ownView = new JsonRpcProvider((await leecher.ok<{ urls: { rpc: string } }>('GET', '/api/status')).urls.rpc, undefined, { staticNetwork: true })
    await waitFor('the leecher to see its funds', async () => await ownView.getBalance(wallet) > 0n, { timeoutMs: 120_000, intervalMs: 500 })
    ownView.destroy()
    const output = join(dir, 'short-received.bin')
    expect((await leecher.api('POST', '/api/downloads', { cid, output, maxCostWei: costOf(FILE_SIZE, PRICE).toString() })).status).to.equal(202)
    await waitFor('the download', async () => (await leecher.ok<DownloadView>('GET', `/api/downloads/${cid}`)).state === 'completed', { timeoutMs: 60_000, intervalMs: 200 })
    await expectIntactDownload(output, original, cid)

    const worth = costOf(FILE_SIZE, PRICE)
    await waitFor('the seeder to redeem before expiry, unasked', async () => {
      const view = await seeder.ok<{ files: Array<{ cid: string, redeemedWei: string }> }>('GET', '/api/earnings')
      return view.files.find(file => file.cid === cid)?.redeemedWei === worth.toString()
    }, { timeoutMs: 120_000, intervalMs: 1000 })
    const refunded = await waitFor('the leecher to refund after expiry, unasked', async () => {
      const [own] = await leecher.ok<Array<{ escrowId: string, deposit: string, refundTx?: string }>>('GET', '/api/escrows')
      return own?.refundTx != null ? own : undefined
    // From the redeem (up to ESCROW_SERVE_MARGIN_SECONDS before expiry) to a refund mined past the grace,
    // with a minute for settlement rounds, the chain head catching up and the refund's block.
    }, { timeoutMs: (ESCROW_SERVE_MARGIN_SECONDS + SETTLEMENT_GRACE_SECONDS + 60) * 1000, intervalMs: 1000 })
    const refund = await waitFor('the refund to be mined', async () => await provider.getTransactionReceipt(refunded.refundTx ?? '') ?? undefined, { timeoutMs: 60_000, intervalMs: 250 })
    expect(refund.status, 'the refund transaction succeeded').to.equal(1)
    const state = await new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, provider).escrow(BigInt(refunded.escrowId))
    expect(state.redeemed, 'the seeder got exactly what was signed').to.equal(worth)
    expect(state.deposit, 'nothing is left in the escrow').to.equal(state.redeemed)
    expect(BigInt(refunded.deposit) > worth, 'the deposit held more than was spent, and it came back').to.equal(true)
  })
})
