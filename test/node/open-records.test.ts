import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'chai'
import { join } from 'node:path'
import { MAX_RECORD_BYTES, RECORD_PROTOCOL } from '../../node/config/constants.js'
import { parseContentId } from '../../node/content/cid.js'
import { FrameReader, frameBytes, frameJson } from '../../node/p2p/framing.js'
import { createHost, type ChiralLibp2p } from '../../node/p2p/host.js'
import { endpointsOf, recordKey, signRecord, verifyRecord, type FileRecord } from '../../node/p2p/records.js'
import { MiB, TestNetwork, addFile, expectIntactDownload, randomFile, waitFor, type Daemon, type DownloadView } from './helpers/index.js'

/** A transport no build of this node knows. */
const UNKNOWN_TRANSPORT = { name: 'carrier-pigeon', endpoints: ['coop://loft-7', 'coop://loft-8'] }

/**
 * A record from a newer build: a seeder (a real libp2p node run by the test, with its own peer
 * key) lists a transport this build does not know next to HTTP, whose endpoint is a real chiral
 * seeder's. Other nodes must store and serve the record in their DHT, and a downloader must use
 * the transport it knows and skip the other.
 */
describe('file records listing a transport this build does not know', function () {
  this.timeout(120_000)
  const network = new TestNetwork()
  const hosts: ChiralLibp2p[] = []
  let httpSeeder: Daemon
  let downloader: Daemon

  before(async function () {
    // Slow enough that the download's sources are seen while it runs.
    httpSeeder = await network.start('http-seeder', { maxUploadRate: '2MiB' })
    downloader = await network.start('downloader')
  })

  after(async function () {
    for (const host of hosts) await host.stop()
    await network.cleanup()
  })

  async function startHost (bootstrap: string[]): Promise<{ host: ChiralLibp2p, key: PrivateKey }> {
    const key = await generateKeyPair('Ed25519')
    const host = await createHost({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootstrap })
    hosts.push(host)
    return { host, key }
  }

  /** The daemon's own signed record of `cid`, asked for over the record protocol as any reader does. */
  async function recordOf (host: ChiralLibp2p, daemon: Daemon, cid: string): Promise<FileRecord> {
    const peer = peerIdFromString(daemon.bootstrapAddress.split('/p2p/')[1] ?? '')
    await host.dial(multiaddr(daemon.bootstrapAddress))
    const stream = await host.dialProtocol(peer, RECORD_PROTOCOL)
    await stream.sink([frameJson({ cid })])
    const value = await new FrameReader(stream.source).readFrame(MAX_RECORD_BYTES, true)
    if (value == null) throw new Error(`${daemon.name} has no record of ${cid}`)
    return await verifyRecord(recordKey(cid, peer.toString()), value)
  }

  it('is stored and served by the DHT, and downloaded from over the transports this build knows', async function () {
    const dir = await network.tempDir('files')
    const original = await randomFile(dir, 'newer.bin', 6 * MiB)
    const cid = await addFile(httpSeeder.home, original.path)

    // The HTTP seeder's own record, read by a node outside the downloader's network: the
    // downloader never learns of the HTTP seeder but through the newer seeder's record.
    const { host: probe } = await startHost([])
    const template = await recordOf(probe, httpSeeder, cid)
    await probe.stop()
    const { host: newer, key: newerKey } = await startHost([downloader.bootstrapAddress])
    await newer.dial(multiaddr(downloader.bootstrapAddress))
    const record: FileRecord = {
      ...template,
      peerId: newer.peerId.toString(),
      addresses: newer.getMultiaddrs().map(address => address.toString()),
      transports: [UNKNOWN_TRANSPORT, { name: 'http', endpoints: endpointsOf(template, 'http') ?? [] }],
      wallet: '',
      walletProof: '',
      sequence: 1
    }
    expect(record.transports[1]?.endpoints, 'the HTTP seeder advertises an HTTP endpoint').to.have.length.above(0)
    const signed = await signRecord(record, newerKey)
    const key = recordKey(cid, record.peerId)
    await newer.handle(RECORD_PROTOCOL, ({ stream }) => {
      void stream.sink([frameBytes(signed)]).catch(() => {})
    })
    let stored = 0
    for await (const event of newer.services.dht.put(key, signed)) if (event.name === 'PEER_RESPONSE') stored++
    expect(stored, 'a DHT peer validated and stored the record').to.be.above(0)
    await newer.services.dht.provide(parseContentId(cid).cid)

    // Served: another node, which never spoke to the newer seeder, reads it back from the DHT.
    const { host: reader } = await startHost([downloader.bootstrapAddress])
    await reader.dial(multiaddr(downloader.bootstrapAddress))
    const served = await waitFor('the record to be served by the DHT', async () => {
      for await (const event of reader.services.dht.get(key)) {
        if (event.name === 'VALUE' && !event.from.equals(newer.peerId)) return await verifyRecord(key, event.value)
      }
      return undefined
    }, { timeoutMs: 20_000, intervalMs: 500 })
    expect(served.transports).to.deep.equal(record.transports)

    // Used: the downloader skips carrier-pigeon and fetches every byte over HTTP.
    const output = join(dir, 'newer.out')
    const started = await downloader.api('POST', '/api/downloads', { cid, output })
    expect(started.status, started.text).to.equal(202)
    const carried = new Map<string, number>()
    await waitFor('the download', async () => {
      const view = await downloader.ok<DownloadView>('GET', `/api/downloads/${cid}`)
      if (view.state === 'failed') throw new Error(`download failed: ${JSON.stringify(view.error)}`)
      for (const source of view.sources) carried.set(`${source.peerId}/${source.transport}`, source.bytes)
      return view.state === 'completed' ? view : undefined
    }, { timeoutMs: 60_000, intervalMs: 50 })
    await expectIntactDownload(output, original, cid)
    const carriers = [...carried].filter(([, bytes]) => bytes > 0).map(([source]) => source)
    expect(carriers).to.deep.equal([`${record.peerId}/http`])
  })
})
