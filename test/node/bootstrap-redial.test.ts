import { expect } from 'chai'
import { createServer } from 'node:net'
import { TestNetwork, waitFor } from './helpers/index.js'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>(resolve => server.close(() => { resolve() }))
  if (address == null || typeof address === 'string') throw new Error('no port')
  return address.port
}

describe('bootstrap', function () {
  this.timeout(120_000)
  const network = new TestNetwork()

  after(async function () {
    await network.cleanup()
  })

  it('reaches a bootstrap node that was not up yet when the daemon started', async function () {
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    // The bootstrap node's peer id comes from its home: start it once to create it, then stop it.
    const first = await network.start('bootstrap-node', { listen })
    const bootstrapAddress = `${listen}/p2p/${first.peerId}`
    await first.stop()
    const joiner = await network.start('joiner', { bootstrap: [bootstrapAddress] })
    // Its bootstrap dials have failed by now; nothing is listening at that address.
    await new Promise(resolve => setTimeout(resolve, 3_000))
    expect((await joiner.status()).connectedPeers).to.equal(0)
    const restarted = await network.start('bootstrap-node', { listen, home: first.home })
    await waitFor('the joiner to reach the bootstrap node', async () => (await joiner.status()).connectedPeers >= 1, { timeoutMs: 30_000, intervalMs: 250 })
    expect((await restarted.status()).connectedPeers).to.be.at.least(1)
  })
})
