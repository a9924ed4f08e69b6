import { expect } from 'chai'
import { JsonRpcProvider, parseEther } from 'ethers'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ESCROW_PREDEPLOY_ADDRESS } from '../../node/payments/deployments.js'
import { EscrowClient } from '../../node/payments/escrow-client.js'
import { costOf } from '../../node/payments/pricing.js'
import {
  MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, waitFor, type Daemon
} from './helpers/index.js'

const PRICE = 10n ** 16n
const FILE_SIZE = 4 * MiB
/** The seeder's claims are final at this depth (CHIRAL_REDEEM_CONFIRMATIONS; the default is 12). */
const CONFIRMATIONS = 6
const SEEDER_ENV = { CHIRAL_REDEEM_CONFIRMATIONS: String(CONFIRMATIONS) }

interface ClaimView { txHash: string, amountWei: string, at: number, escrows: number, status?: string, confirmations?: number, droppedAt?: number, blockNumber?: number }
interface EarningsView {
  pendingWei: string
  confirmingWei: string
  redeemedWei: string
  files: Array<{ cid: string, name: string, pendingWei: string, confirmingWei: string, redeemedWei: string, bytes: string }>
  claims: ClaimView[]
}
interface Head { number: bigint, hash: string, totalDifficulty: bigint }

async function rpcUrl (daemon: Daemon): Promise<string> {
  return (await daemon.ok<{ urls: { rpc: string } }>('GET', '/api/status')).urls.rpc
}

async function rpc<T> (daemon: Daemon, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(await rpcUrl(daemon), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const body = await response.json() as { result?: T, error?: { message: string } }
  if (body.error != null) throw new Error(`${daemon.name} ${method}: ${body.error.message}`)
  return body.result as T
}

async function head (daemon: Daemon): Promise<Head> {
  const block = await rpc<{ number: string, hash: string, totalDifficulty: string }>(daemon, 'eth_getBlockByNumber', ['latest', false])
  return { number: BigInt(block.number), hash: block.hash, totalDifficulty: BigInt(block.totalDifficulty) }
}

async function blockHashAt (daemon: Daemon, number: bigint): Promise<string | undefined> {
  return (await rpc<{ hash: string } | null>(daemon, 'eth_getBlockByNumber', [`0x${number.toString(16)}`, false]))?.hash
}

async function walletOf (daemon: Daemon): Promise<string> {
  const { wallet } = await daemon.ok<{ wallet: string | null }>('GET', '/api/status')
  if (wallet == null) throw new Error(`${daemon.name} has no wallet`)
  return wallet
}

async function earnings (daemon: Daemon): Promise<EarningsView> {
  return await daemon.ok<EarningsView>('GET', '/api/earnings')
}

/** The seeder's log lines (pino JSON) with this message. */
async function logged (daemon: Daemon, message: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(daemon.home, 'logs', 'chiral.log'), 'utf8').catch(() => '')
  return text.split('\n').filter(line => line.includes(message)).map(line => JSON.parse(line) as Record<string, unknown>)
}

describe('a seeder\'s claim dropped by a reorganisation (separate node processes mining the dev genesis)', function () {
  this.timeout(300_000)
  const network = new TestNetwork()
  const providers: JsonRpcProvider[] = []

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return
    const dir = await network.keepLogs(`payments-reorg-${this.currentTest.title}`)
    for (const daemon of network.daemons) process.stderr.write(`\n--- ${daemon.name} log (tail; all logs in ${dir}) ---\n${daemon.logTail(60)}\n`)
  })
  after(async () => {
    for (const provider of providers) provider.destroy()
    await network.cleanup()
  })

  it('goes back to claimable, is re-submitted, and is paid and counted exactly once, final after the confirmations', async function () {
    // A leecher and a second miner, and a seeder that mines too, all on one chain.
    const leecher = await network.start('leecher', { mine: true, genesis: 'dev' })
    await network.start('miner', { mine: true, genesis: 'dev', bootstrap: [leecher.bootstrapAddress] })
    let seeder = await network.start('seeder', { mine: true, genesis: 'dev', bootstrap: [leecher.bootstrapAddress], env: SEEDER_ENV })
    await leecher.waitForPeers(2)
    const provider = new JsonRpcProvider(await rpcUrl(leecher), undefined, { staticNetwork: true, pollingInterval: 250 })
    providers.push(provider)
    const leecherWallet = await walletOf(leecher)
    const seederWallet = await walletOf(seeder)
    await waitFor('the leecher to mine 3 CHI', async () => await provider.getBalance(leecherWallet) >= parseEther('3'), { timeoutMs: 120_000, intervalMs: 500 })
    // Gas money for the seeder's redemptions on the chain that will win, whichever blocks it mined.
    await leecher.ok('POST', '/api/wallet/send', { to: seederWallet, amount: '0.5' })
    await waitFor('the seeder to hold gas money', async () => await provider.getBalance(seederWallet) >= parseEther('0.5'), { timeoutMs: 90_000, intervalMs: 500 })

    // A paid download: the seeder holds receipts worth `worth`, below its redeem threshold.
    const dir = await network.tempDir('files')
    const original = await randomFile(dir, 'reorg.bin', FILE_SIZE)
    const cid = await addFile(seeder.home, original.path, ['--price', PRICE.toString()])
    const output = join(dir, 'received.bin')
    const get = await chiral(leecher.home, ['get', cid, '-o', output, '--yes'], { timeoutMs: 180_000 })
    expect(get.code, describeResult(get)).to.equal(0)
    await expectIntactDownload(output, original, cid)
    const worth = costOf(FILE_SIZE, PRICE)
    const [own] = await leecher.ok<Array<{ escrowId: string }>>('GET', '/api/escrows')
    if (own == null) throw new Error('the leecher opened no escrow')
    const escrowId = BigInt(own.escrowId)
    expect((await earnings(seeder)).pendingWei).to.equal(worth.toString())
    // Both sides agree on a block after the escrow's: it is in the chain they will share again.
    const agreedAt = (await head(leecher)).number + 2n
    await waitFor('the seeder and the leecher to agree on a block past the escrow', async () => {
      const [ours, theirs] = await Promise.all([blockHashAt(seeder, agreedAt), blockHashAt(leecher, agreedAt)])
      return ours != null && ours === theirs
    }, { timeoutMs: 90_000, intervalMs: 250 })

    // Partition: the same seeder, restarted on new ephemeral ports with no bootstrap, mines alone.
    const home = seeder.home
    await seeder.stop()
    seeder = await network.start('seeder-alone', { home, mine: true, genesis: 'dev', env: SEEDER_ENV })
    expect((await seeder.status()).connectedPeers).to.equal(0)
    const claim = await chiral(seeder.home, ['claim'], { timeoutMs: 120_000 })
    expect(claim.code, describeResult(claim)).to.equal(0)
    const dropped = /in (0x[0-9a-f]{64})/.exec(claim.stdout)?.[1]
    if (dropped == null) throw new Error(`no transaction in: ${claim.stdout}`)
    const alone = await earnings(seeder)
    expect(alone, 'the claim is confirming on the seeder\'s own chain').to.include({ pendingWei: '0', confirmingWei: worth.toString(), redeemedWei: '0' })
    expect(alone.claims.find(c => c.txHash === dropped)).to.include({ status: 'confirming', amountWei: worth.toString() })
    const stopped = await chiral(seeder.home, ['mine', 'stop'])
    expect(stopped.code, describeResult(stopped)).to.equal(0)
    const lone = await head(seeder)
    const loneClaim = await rpc<{ blockNumber: string }>(seeder, 'eth_getTransactionReceipt', [dropped])
    expect(BigInt(loneClaim.blockNumber) <= lone.number).to.equal(true)

    // The other side, two miners, mines on until its chain is heavier than the seeder's.
    await waitFor('the two miners\' chain to outweigh the seeder\'s', async () => (await head(leecher)).totalDifficulty > lone.totalDifficulty, { timeoutMs: 120_000, intervalMs: 500 })
    expect(await provider.getTransactionReceipt(dropped), 'the claim never reached the other side').to.equal(null)

    // Joined again, the seeder reorganises onto the heavier chain, where its claim is not.
    const connect = await chiral(seeder.home, ['connect', leecher.bootstrapAddress])
    expect(connect.code, describeResult(connect)).to.equal(0)
    const dropRecord = await waitFor('the seeder to record its claim as dropped', async () => {
      return (await earnings(seeder)).claims.find(c => c.txHash === dropped && c.droppedAt != null)
    }, { timeoutMs: 90_000, intervalMs: 100 })
    const [dropLog] = await waitFor('the drop in the seeder\'s log', async () => {
      const lines = await logged(seeder, 'a reorganisation dropped a claim')
      return lines.length > 0 ? lines : undefined
    }, { timeoutMs: 10_000, intervalMs: 100 })
    expect(dropLog?.tx).to.equal(dropped)
    expect(dropLog?.escrows, 'the escrow went back to what the contract held: its earning is claimable again').to.deep.equal([{ escrowId: escrowId.toString(), redeemedNow: '0' }])
    const resubmission = await waitFor('the seeder to re-submit the receipt', async () => {
      return (await earnings(seeder)).claims.find(c => c.txHash !== dropped && c.at > (dropRecord.droppedAt ?? 0))
    }, { timeoutMs: 90_000, intervalMs: 250 })
    expect(resubmission, 'the re-submission did not wait for the redeem threshold').to.not.equal(undefined)

    // Paid once: the escrow holds exactly one redemption of the receipt, on both sides.
    const escrow = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, provider)
    await waitFor('the escrow to be redeemed on the miners\' chain', async () => (await escrow.escrow(escrowId)).redeemed > 0n, { timeoutMs: 90_000, intervalMs: 250 })
    expect((await escrow.escrow(escrowId)).redeemed).to.equal(worth)

    // Counted once: final only once the claim that paid is CONFIRMATIONS deep, never twice.
    const final = await waitFor('the earning to be final', async () => {
      const view = await earnings(seeder)
      expect(BigInt(view.pendingWei) + BigInt(view.confirmingWei) + BigInt(view.redeemedWei), 'every earning counted once').to.equal(worth)
      return view.redeemedWei === worth.toString() ? view : undefined
    }, { timeoutMs: 120_000, intervalMs: 250 })
    expect(final).to.include({ pendingWei: '0', confirmingWei: '0', redeemedWei: worth.toString() })
    expect(final.files).to.deep.equal([{ cid, name: 'reorg.bin', pendingWei: '0', confirmingWei: '0', redeemedWei: worth.toString(), bytes: String(FILE_SIZE) }])
    const standing = final.claims.filter(c => c.status !== 'dropped')
    expect(standing.reduce((sum, c) => sum + BigInt(c.amountWei), 0n), 'the claims standing paid the receipt once').to.equal(worth)
    const paying = standing.filter(c => BigInt(c.amountWei) > 0n)
    expect(paying).to.have.length(1)
    expect(paying[0]?.status).to.equal('final')
    expect(paying[0]?.confirmations ?? 0).to.be.at.least(CONFIRMATIONS)
    const seederView = new JsonRpcProvider(await rpcUrl(seeder), undefined, { staticNetwork: true })
    providers.push(seederView)
    expect((await new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, seederView).escrow(escrowId)).redeemed, 'and on the seeder\'s chain').to.equal(worth)
    const cli = await chiral(seeder.home, ['earnings'])
    expect(cli.code, describeResult(cli)).to.equal(0)
    expect(cli.stdout).to.match(/pending 0 CHI, confirming 0 CHI, redeemed 0\.04 CHI/)
  })
})
