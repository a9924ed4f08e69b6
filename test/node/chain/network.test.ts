import { expect } from 'chai'
import { TestNetwork, waitFor, type Daemon } from '../helpers/index.js'

interface ChainView { head: { number: string, hash: string }, rpc: { url: string } | null }

/** Calls the daemon's public JSON-RPC endpoint. */
async function rpc<T> (daemon: Daemon, method: string, params: unknown[] = []): Promise<T> {
  const { rpc: urls } = await daemon.ok<ChainView>('GET', '/api/chain')
  const response = await fetch(urls?.url ?? '', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const body = await response.json() as { result?: T, error?: { message: string } }
  if (body.error != null) throw new Error(`${method}: ${body.error.message}`)
  return body.result as T
}

async function head (daemon: Daemon): Promise<{ number: bigint, hash: string }> {
  const view = await daemon.ok<ChainView>('GET', '/api/chain')
  return { number: BigInt(view.head.number), hash: view.head.hash }
}

async function blockHashAt (daemon: Daemon, number: bigint): Promise<string | undefined> {
  const block = await rpc<{ hash: string } | null>(daemon, 'eth_getBlockByNumber', [`0x${number.toString(16)}`, false])
  return block?.hash
}

async function waitForHeight (daemon: Daemon, height: bigint, timeoutMs = 90_000): Promise<void> {
  await waitFor(`${daemon.name} to reach block ${height}`, async () => (await head(daemon)).number >= height, { timeoutMs, intervalMs: 250 })
}

async function stopMining (daemons: Daemon[]): Promise<void> {
  await Promise.all(daemons.map(async daemon => { await daemon.ok('POST', '/api/mining/stop', {}) }))
}

/** Waits until every daemon reports the same head hash, and returns it. */
async function converged (daemons: Daemon[], timeoutMs = 60_000): Promise<{ number: bigint, hash: string }> {
  return await waitFor('all nodes to agree on one head', async () => {
    const heads = await Promise.all(daemons.map(head))
    const first = heads[0]
    return first != null && heads.every(h => h.hash === first.hash) ? first : undefined
  }, { timeoutMs, intervalMs: 250 })
}

describe('chain network (separate node processes mining the dev genesis)', function () {
  this.timeout(300_000)
  const network = new TestNetwork()
  after(async () => { await network.cleanup() })

  it('three nodes that mined apart converge on the heaviest chain once connected (forks resolved by reorg)', async () => {
    const nodes = await Promise.all(['miner-a', 'miner-b', 'miner-c'].map(async name => await network.start(name, { mine: true, genesis: 'dev' })))
    await Promise.all(nodes.map(async node => { await waitForHeight(node, 6n) }))
    const forkHeads = await Promise.all(nodes.map(head))
    const forkBlocks = await Promise.all(nodes.map(async node => await blockHashAt(node, 5n)))
    // Mined apart, their chains differ from block 1 on: three forks.
    expect(new Set(forkBlocks).size).to.equal(3)

    const [a, b, c] = nodes as [Daemon, Daemon, Daemon]
    await b.ok('POST', '/api/peers', { address: a.bootstrapAddress })
    await c.ok('POST', '/api/peers', { address: a.bootstrapAddress })
    await waitForHeight(a, forkHeads.reduce((max, h) => h.number > max ? h.number : max, 0n) + 3n)
    // With a single miner left there is one heaviest chain (equal-weight heads never reorganise):
    // the others must follow it, then stopping it leaves everyone on its last block.
    await stopMining([b, c])
    const followFrom = (await head(a)).number + 2n
    await Promise.all([b, c].map(async node => { await waitForHeight(node, followFrom) }))
    await stopMining([a])
    const final = await converged(nodes)
    const canonicalAt5 = await blockHashAt(a, 5n)
    for (const node of nodes) expect(await blockHashAt(node, 5n)).to.equal(canonicalAt5)
    // At least two of the three abandoned their own fork.
    expect(forkBlocks.filter(hash => hash !== canonicalAt5).length).to.be.at.least(2)
    expect(final.number > 5n, `final head ${final.number}`).to.equal(true)
  })

  it('a node that was offline for 50 blocks catches up, and kill -9 loses no block', async () => {
    const [miner, follower] = await network.startConnected(['miner', 'follower'], { miner: { mine: true, genesis: 'dev' }, follower: { genesis: 'dev' } }) as [Daemon, Daemon]
    await waitForHeight(miner, 5n)
    await waitForHeight(follower, 5n)
    const followerHome = follower.home
    await follower.stop()
    const offlineAt = (await head(miner)).number
    await waitForHeight(miner, offlineAt + 50n, 150_000)
    await stopMining([miner])
    const target = await head(miner)

    const back = await network.start('follower-again', { home: followerHome, genesis: 'dev', bootstrap: [miner.bootstrapAddress] })
    await waitFor('the follower to catch up with the miner', async () => (await head(back)).hash === target.hash, { timeoutMs: 90_000, intervalMs: 250 })

    await back.kill9()
    const restarted = await network.start('follower-restarted', { home: followerHome, genesis: 'dev' })
    const afterRestart = await head(restarted)
    expect(afterRestart.number).to.equal(target.number)
    expect(afterRestart.hash).to.equal(target.hash)
    expect(await blockHashAt(restarted, target.number - 25n)).to.equal(await blockHashAt(miner, target.number - 25n))
  })
})
