import { expect } from 'chai'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_MINED_AHEAD_SECONDS } from '../../../node/chain/chain.js'
import { REPO_ROOT, TestNetwork, waitFor, type Daemon } from '../helpers/index.js'

interface ChainView { head: { number: string, timestamp: number } }

const HEIGHT = 30n

/**
 * The dev genesis with a 1 s block target. Light-mode Ethash in JS does ~100 hashes a second a
 * thread, so the stock dev genesis (2 s, minimum difficulty 16) runs only a few seconds ahead on
 * a busy 2-core machine; at a 1 s target the difficulty never rises while stamps are parent + 1 s
 * (elapsed equals the target), so without waiting for the clock blocks come every few hundred
 * milliseconds and their stamps run ahead by seconds per second, as fast dev chains do on fast
 * machines.
 */
async function fastDevGenesis (dir: string): Promise<string> {
  const spec = JSON.parse(await readFile(join(REPO_ROOT, 'genesis', 'dev.json'), 'utf8')) as Record<string, unknown>
  const path = join(dir, 'dev-1s.json')
  await writeFile(path, JSON.stringify({ ...spec, name: 'chiral-dev-1s', targetBlockTimeSeconds: 1 }))
  return path
}

async function logOf (daemon: Daemon): Promise<string> {
  return await readFile(join(daemon.home, 'logs', 'chiral.log'), 'utf8').catch(() => '')
}

describe('fast dev miners (separate node processes) stamp blocks their peers accept', function () {
  this.timeout(240_000)
  const network = new TestNetwork()
  let nodes: Daemon[] = []

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return
    for (const node of nodes) process.stderr.write(`\n--- ${node.name} log (tail) ---\n${node.logTail(80)}\n`)
  })
  after(async () => { await network.cleanup() })

  it(`three miners mining together to block ${HEIGHT}: no block is refused as from the future, none stamped ahead of the clock`, async () => {
    const genesis = await fastDevGenesis(await network.tempDir('genesis'))
    const names = ['clock-a', 'clock-b', 'clock-c']
    nodes = await network.startConnected(names, Object.fromEntries(names.map(name => [name, { mine: true, genesis }])))
    let mostAhead = 0
    await waitFor(`every miner to reach block ${HEIGHT}`, async () => {
      const heads = await Promise.all(nodes.map(async node => (await node.ok<ChainView>('GET', '/api/chain')).head))
      const now = Math.floor(Date.now() / 1000)
      for (const head of heads) mostAhead = Math.max(mostAhead, head.timestamp - now)
      return heads.every(head => BigInt(head.number) >= HEIGHT)
    }, { timeoutMs: 180_000, intervalMs: 200 })
    await Promise.all(nodes.map(async node => { await node.stop() }))
    for (const node of nodes) {
      const refused = (await logOf(node)).split('\n').filter(line => line.includes('from the future'))
      expect(refused, `${node.name} refused or discarded blocks stamped from the future`).to.deep.equal([])
    }
    expect(mostAhead, 'seconds a head block was stamped ahead of the clock').to.be.at.most(Number(MAX_MINED_AHEAD_SECONDS))
  })
})
