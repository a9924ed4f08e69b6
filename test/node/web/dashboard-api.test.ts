import { readFile } from 'node:fs/promises'
import { expect } from 'chai'
import { TestNetwork, randomFile, sha256File, type Daemon, type SeedFileView } from '../helpers/index.js'

describe('API routes the dashboard uses', function () {
  this.timeout(60_000)
  const net = new TestNetwork()
  let node: Daemon

  before(async function () { node = await net.start('dashboard-api') })
  after(async function () { await net.cleanup() })

  it('stores an uploaded file under <home>/uploads and seeds it, never overwriting an earlier upload', async function () {
    const file = await randomFile(await net.tempDir('uploads-src'), 'clip.bin', 300_000)
    const upload = async (): Promise<Response> => await fetch(`${node.url}/api/files/upload?name=${encodeURIComponent('../clip.bin')}&pricePerMiB=7`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/octet-stream' },
      body: await readFile(file.path)
    })
    const first = await upload()
    expect(first.status, await first.clone().text()).to.equal(201)
    const entry = await first.json() as SeedFileView
    expect(entry.path).to.equal(`${node.home}/uploads/clip.bin`)
    expect(entry.pricePerMiB).to.equal('7')
    expect(entry.state).to.equal('seeding')
    expect(await sha256File(entry.path)).to.equal(file.sha256)

    const second = await upload()
    expect(second.status).to.equal(201)
    expect((await second.json() as SeedFileView).path).to.equal(`${node.home}/uploads/clip (1).bin`)

    const noToken = await fetch(`${node.url}/api/files/upload?name=x.bin`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: 'x' })
    expect(noToken.status).to.equal(401)
  })

  it('forwards JSON-RPC to the node\'s chain, behind the token', async function () {
    const call = { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }
    const response = await node.api<{ result: string }>('POST', '/api/rpc', call)
    expect(response.status).to.equal(200)
    const chain = await node.ok<{ chainId: string }>('GET', '/api/chain')
    expect(BigInt(response.body.result).toString()).to.equal(chain.chainId)
    const batch = await node.api<Array<{ id: number }>>('POST', '/api/rpc', [call, { ...call, id: 2 }])
    expect(batch.body.map(answer => answer.id)).to.deep.equal([1, 2])
    expect((await node.api('POST', '/api/rpc', call, { token: null })).status).to.equal(401)
  })

  it('describes the node\'s addresses, their reach and the DHT', async function () {
    const network = await node.ok<{ reachability: string, addresses: Array<{ scope: string }>, dht: { mode: string, routingTablePeers: number } }>('GET', '/api/network')
    expect(network.reachability).to.equal('this-machine')
    expect(network.addresses.length).to.be.greaterThan(0)
    expect(network.dht.mode).to.be.oneOf(['client', 'server'])
    expect(network.dht.routingTablePeers).to.equal(0)
  })

  it('puts the dashboard URL in status and the pairing link in the daemon output', async function () {
    const status = await node.ok<{ urls: { dashboard: string } }>('GET', '/api/status')
    expect(status.urls.dashboard).to.equal(`${node.url}/`)
    expect(node.stdout).to.include(`dashboard       ${node.url}/#token=${node.token}`)
  })
})
