import { expect } from 'chai'
import { JsonRpcProvider, NonceManager, Wallet, parseEther } from 'ethers'
import { join } from 'node:path'
import { parseContentId } from '../../node/content/cid.js'
import { ESCROW_PREDEPLOY_ADDRESS } from '../../node/payments/deployments.js'
import { ESCROW_SERVE_MARGIN_SECONDS, MAX_SESSIONS_PER_ESCROW, MIN_ESCROW_REMAINING_SECONDS } from '../../node/payments/constants.js'
import { EscrowClient } from '../../node/payments/escrow-client.js'
import { costOf } from '../../node/payments/pricing.js'
import { receiptContentId, signReceipt, type SignedReceipt } from '../../node/payments/receipts.js'
import { MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, sleep, waitFor, type Daemon } from './helpers/index.js'
import { HostilePeer, takeHttpChunks, type HostileSession } from './helpers/hostile-peer.js'

/** A dev genesis account (Hardhat's first well-known key), funded with a million CHI. */
const LEECHER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const PRICE = 10n ** 15n
const CREDIT_WINDOW = 4 * MiB
const FILE_SIZE = 24 * MiB

interface EarningsView {
  pendingWei: string
  confirmingWei: string
  redeemedWei: string
  files: Array<{ pendingWei: string, confirmingWei: string, redeemedWei: string }>
  peers: Array<{ pendingWei: string, confirmingWei: string, redeemedWei: string }>
}

/**
 * A paid seeder attacked by hostile leechers (test doubles that speak the wire protocols by
 * hand, several peer ids each) on a real mining dev chain: one escrow's credit window, receipts
 * and served bytes are shared by every session, peer id, credential and transport naming it.
 */
describe('payment attacks on a seeder', function () {
  this.timeout(300_000)
  const network = new TestNetwork()
  const peers: HostilePeer[] = []
  let seeder: Daemon
  let provider: JsonRpcProvider
  let leecher: NonceManager
  let escrow: EscrowClient
  let seederWallet: string
  let cid: string
  let original: { path: string, size: number, sha256: string }

  before(async function () {
    this.timeout(180_000)
    seeder = await network.start('seeder', { mine: true, genesis: 'dev' })
    const status = await seeder.ok<{ wallet: string, urls: { rpc: string } }>('GET', '/api/status')
    seederWallet = status.wallet
    provider = new JsonRpcProvider(status.urls.rpc, undefined, { staticNetwork: true, pollingInterval: 100 })
    leecher = new NonceManager(new Wallet(LEECHER_KEY, provider))
    escrow = new EscrowClient(ESCROW_PREDEPLOY_ADDRESS, leecher)
    original = await randomFile(await network.tempDir('files'), 'paid.bin', FILE_SIZE)
    cid = await addFile(seeder.home, original.path, ['--price', PRICE.toString()])
  })

  afterEach(async function () {
    for (const peer of peers.splice(0)) await peer.stop().catch(() => {})
    if (this.currentTest?.state === 'failed') console.log(`daemon logs kept in ${await network.keepLogs(`payment-attacks ${this.currentTest.title}`)}`)
    await expectLedgerNeverNegative()
  })

  after(async function () {
    provider?.destroy()
    await network.cleanup()
  })

  async function hostilePeer (): Promise<HostilePeer> {
    const peer = await HostilePeer.start()
    peers.push(peer)
    return peer
  }

  async function openEscrow (deposit: bigint, lifetimeSeconds = 3600): Promise<bigint> {
    const head = await provider.getBlock('latest')
    const now = Math.max(Math.floor(Date.now() / 1000), head?.timestamp ?? 0)
    const { escrowId } = await escrow.open(seederWallet, deposit, BigInt(now + lifetimeSeconds))
    return escrowId
  }

  async function receipt (escrowId: bigint, bytes: number): Promise<SignedReceipt> {
    return await signReceipt(leecher, await escrow.domain(), {
      escrowId, seeder: seederWallet, contentId: receiptContentId(parseContentId(cid)), contentBytes: BigInt(bytes), cumulativeAmount: costOf(bytes, PRICE)
    })
  }

  /** Opens a session, offering it again while the seeder has not seen the escrow's block (it says so). */
  async function accepted (peer: HostilePeer, escrowId: bigint): Promise<HostileSession> {
    return await waitFor('the seeder to accept the session', async () => {
      const session = await peer.openSession(seeder.bootstrapAddress, cid, escrowId, PRICE)
      if (session.answer?.type === 'accepted') return session
      await session.close()
      if (session.answer?.retryable !== true) throw new Error(`session refused: ${JSON.stringify(session.answer)}`)
      return undefined
    }, { timeoutMs: 30_000, intervalMs: 250 })
  }

  async function expectLedgerNeverNegative (): Promise<void> {
    const view = await seeder.ok<EarningsView>('GET', '/api/earnings')
    for (const totals of [view, ...view.files, ...view.peers]) {
      expect(BigInt(totals.pendingWei) >= 0n, `pending ${totals.pendingWei}`).to.equal(true)
      expect(BigInt(totals.confirmingWei) >= 0n, `confirming ${totals.confirmingWei}`).to.equal(true)
      expect(BigInt(totals.redeemedWei) >= 0n, `redeemed ${totals.redeemedWei}`).to.equal(true)
    }
  }

  it('gives four peer ids on one escrow one credit window between them', async function () {
    const escrowId = await openEscrow(parseEther('0.02'))
    let taken = 0
    for (let i = 0; i < 4; i++) {
      const peer = await hostilePeer()
      await accepted(peer, escrowId)
      const { bytes, refusal } = await peer.takeNativeChunks(seeder.bootstrapAddress, cid, i * 5, 5)
      taken += bytes
      if (i > 0) expect(refusal, 'a later peer id is refused').to.match(/payment-required: .*lag/)
    }
    expect(taken, 'all four peer ids together got one credit window').to.equal(CREDIT_WINDOW)
  })

  it('lets one escrow back at most MAX_SESSIONS_PER_ESCROW sessions at once', async function () {
    const escrowId = await openEscrow(parseEther('0.02'))
    const sessions = []
    for (let i = 0; i < MAX_SESSIONS_PER_ESCROW; i++) sessions.push(await accepted(await hostilePeer(), escrowId))
    const extra = await (await hostilePeer()).openSession(seeder.bootstrapAddress, cid, escrowId, PRICE)
    expect(extra.answer).to.include({ type: 'refused', code: 'TOO_MANY_SESSIONS' })
    await sessions[0]?.close()
    await waitFor('a session to end and make room', async () => {
      const another = await (await hostilePeer()).openSession(seeder.bootstrapAddress, cid, escrowId, PRICE)
      return another.answer?.type === 'accepted'
    }, { timeoutMs: 10_000, intervalMs: 200 })
  })

  it('gives one peer id with four racing sessions one credit window, and ends replaced credentials', async function () {
    const escrowId = await openEscrow(parseEther('0.02'))
    const peer = await hostilePeer()
    await accepted(peer, escrowId)
    const sessions = await Promise.all([0, 1, 2, 3].map(async () => await peer.openSession(seeder.bootstrapAddress, cid, escrowId, PRICE)))
    const credentials = sessions.map(session => session.credential)
    let taken = 0
    const messages: string[] = []
    for (const [i, credential] of credentials.entries()) {
      const { bytes, refusal, message } = await takeHttpChunks(seeder.httpUrl, cid, credential, i * 5, 5)
      taken += bytes
      expect(refusal).to.equal(402)
      messages.push(message ?? '')
    }
    expect(taken, 'all credentials together got one credit window').to.equal(CREDIT_WINDOW)
    // Only the last session opened for this peer and file stands; the credentials of the ones it replaced are void.
    expect(messages.filter(message => /open a payment session first/.test(message)), messages.join('\n')).to.have.length(3)
    expect(messages.filter(message => /lag/.test(message)), messages.join('\n')).to.have.length(1)
  })

  it('counts one receipt once however many sessions it is sent to, and never lets a lower one replace it', async function () {
    const escrowId = await openEscrow(parseEther('0.04'))
    const [first, second, third] = [await hostilePeer(), await hostilePeer(), await hostilePeer()]
    const sessionA = await accepted(first, escrowId)
    const sessionB = await accepted(second, escrowId)
    const eight = await receipt(escrowId, 8 * MiB)
    expect(await sessionA.sendReceipt(eight)).to.deep.equal({ type: 'ack', cumulativeAmount: costOf(8 * MiB, PRICE).toString() })
    const again = await sessionB.sendReceipt(eight)
    expect(again.error, 'the same receipt on a second session').to.match(/not above/)
    const servedA = await first.takeNativeChunks(seeder.bootstrapAddress, cid, 0, 24)
    const servedB = await second.takeNativeChunks(seeder.bootstrapAddress, cid, 0, 24)
    expect(servedA.bytes + servedB.bytes, '8 MiB signed plus one credit window').to.equal(8 * MiB + CREDIT_WINDOW)

    const sessionC = await accepted(third, escrowId)
    const lower = await sessionC.sendReceipt(await receipt(escrowId, MiB))
    expect(lower.error, 'a lower receipt').to.match(/not above/)
    expect(lower.cumulativeAmount).to.equal(costOf(8 * MiB, PRICE).toString())

    const before = await seeder.ok<EarningsView>('GET', '/api/earnings')
    const earnings = await chiral(seeder.home, ['earnings', '--json'])
    expect(earnings.code, describeResult(earnings)).to.equal(0)
    const claim = await seeder.ok<{ claim: { amountWei: string } | null }>('POST', '/api/earnings/claim', {})
    expect(claim.claim?.amountWei, 'the claim redeems the 8 MiB receipt').to.equal(costOf(8 * MiB, PRICE).toString())
    expect((await escrow.escrow(escrowId)).redeemed).to.equal(costOf(8 * MiB, PRICE))
    const after = await seeder.ok<EarningsView>('GET', '/api/earnings')
    const total = (view: EarningsView): bigint => BigInt(view.pendingWei) + BigInt(view.confirmingWei) + BigInt(view.redeemedWei)
    expect(total(after)).to.equal(total(before))
  })

  it('stops serving an escrow near its expiry, whatever the session was told when it opened', async function () {
    const escrowId = await openEscrow(parseEther('0.02'), MIN_ESCROW_REMAINING_SECONDS + 20)
    const peer = await hostilePeer()
    const session = await accepted(peer, escrowId)
    const { expiry } = await escrow.escrow(escrowId)
    expect((await peer.takeNativeChunks(seeder.bootstrapAddress, cid, 0, 1)).bytes).to.equal(MiB)
    await session.sendReceipt(await receipt(escrowId, MiB))
    const stopAt = Number(expiry) - ESCROW_SERVE_MARGIN_SECONDS
    await sleep(Math.max(0, stopAt * 1000 - Date.now()) + 1000)
    const late = await peer.takeNativeChunks(seeder.bootstrapAddress, cid, 1, 1)
    expect(late.bytes).to.equal(0)
    expect(late.refusal).to.match(/expires/)
    const overHttp = await takeHttpChunks(seeder.httpUrl, cid, session.credential, 1, 1)
    expect(overHttp.refusal).to.equal(402)
  })

  it('refuses an escrow it has not seen yet as retryable, and takes the same offer once the escrow is on its chain', async function () {
    const nextId = await escrow.contract.escrowCount() + 1n
    const peer = await hostilePeer()
    const early = await peer.openSession(seeder.bootstrapAddress, cid, nextId, PRICE)
    expect(early.answer).to.include({ type: 'refused', code: 'ESCROW_NOT_FOUND', retryable: true })
    await early.close()
    expect(await openEscrow(parseEther('0.01'))).to.equal(nextId)
    const later = await peer.openSession(seeder.bootstrapAddress, cid, nextId, PRICE)
    expect(later.answer?.type).to.equal('accepted')
  })

  it('sees a top-up of the escrow behind a running session without the leecher reconnecting', async function () {
    const escrowId = await openEscrow(costOf(6 * MiB, PRICE))
    const peer = await hostilePeer()
    const session = await accepted(peer, escrowId)
    expect((await peer.takeNativeChunks(seeder.bootstrapAddress, cid, 0, 4)).bytes).to.equal(4 * MiB)
    await session.sendReceipt(await receipt(escrowId, 4 * MiB))
    const full = await peer.takeNativeChunks(seeder.bootstrapAddress, cid, 4, 4)
    expect(full.bytes, 'the deposit covers 6 MiB').to.equal(2 * MiB)
    expect(full.refusal).to.match(/used up/)
    await session.sendReceipt(await receipt(escrowId, 6 * MiB))
    const { expiry } = await escrow.escrow(escrowId)
    await escrow.topUp(escrowId, costOf(10 * MiB, PRICE), expiry)
    const more = await waitFor('the seeder to serve on the topped-up escrow', async () => {
      const taken = await peer.takeNativeChunks(seeder.bootstrapAddress, cid, 6, 1)
      return taken.bytes > 0 ? taken : undefined
    }, { timeoutMs: 30_000, intervalMs: 500 })
    expect(more.bytes).to.equal(MiB)
  })

  it('pays the sum when an honest leecher runs two paid downloads from one seeder at once', async function () {
    const dir = await network.tempDir('honest')
    const second = await randomFile(dir, 'second.bin', 8 * MiB)
    const secondCid = await addFile(seeder.home, second.path, ['--price', PRICE.toString()])
    const honest = await network.start('honest', { genesis: 'dev', bootstrap: [seeder.bootstrapAddress] })
    const { wallet } = await honest.ok<{ wallet: string }>('GET', '/api/status')
    await (await leecher.sendTransaction({ to: wallet, value: parseEther('3') })).wait()
    const honestView = new JsonRpcProvider((await honest.ok<{ urls: { rpc: string } }>('GET', '/api/status')).urls.rpc, undefined, { staticNetwork: true })
    await waitFor('the leecher to see its funds', async () => await honestView.getBalance(wallet) > 0n, { timeoutMs: 60_000, intervalMs: 250 })
    honestView.destroy()
    const gets = await Promise.all([[cid, original], [secondCid, second]].map(async ([fileCid, file]) => {
      const output = join(dir, `${String(fileCid)}.out`)
      const result = await chiral(honest.home, ['get', String(fileCid), '-o', output, '--yes'], { timeoutMs: 180_000 })
      return { result, output, file: file as typeof second, fileCid: String(fileCid) }
    }))
    for (const { result, output, file, fileCid } of gets) {
      expect(result.code, describeResult(result)).to.equal(0)
      await expectIntactDownload(output, file, fileCid)
    }
    const worth = costOf(FILE_SIZE, PRICE) + costOf(8 * MiB, PRICE)
    // `get` returns once the file is in place; the last receipts may still be on their way.
    const own = await waitFor('the last receipts to be signed', async () => {
      const [escrowView] = await honest.ok<Array<{ escrowId: string, cumulativeAmount: string }>>('GET', '/api/escrows')
      return escrowView != null && BigInt(escrowView.cumulativeAmount) >= worth ? escrowView : undefined
    }, { timeoutMs: 15_000, intervalMs: 100 })
    expect(own.cumulativeAmount, 'one counter for both downloads').to.equal(worth.toString())
    const honestPeer = (await honest.status()).peerId
    await waitFor('the seeder to hold the last receipt', async () => {
      const view = await seeder.ok<{ peers: Array<{ peerId: string, pendingWei: string, confirmingWei?: string, redeemedWei: string }> }>('GET', '/api/earnings')
      const peer = view.peers.find(entry => entry.peerId === honestPeer)
      return peer != null && BigInt(peer.pendingWei) + BigInt(peer.confirmingWei ?? '0') + BigInt(peer.redeemedWei) >= worth
    }, { timeoutMs: 15_000, intervalMs: 100 })
    await seeder.ok('POST', '/api/earnings/claim', {})
    expect((await escrow.escrow(BigInt(own.escrowId))).redeemed, 'the seeder was paid for both files').to.equal(worth)
  })
})
