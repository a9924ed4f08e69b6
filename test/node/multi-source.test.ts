import { join } from 'node:path'
import { expect } from 'chai'
import {
  MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, waitFor, watchSources,
  type Daemon, type PeerView
} from './helpers/index.js'

function bytesFrom (peers: PeerView[], peerId: string): number {
  return peers.find(peer => peer.peerId === peerId)?.bytesDownloaded ?? 0
}

describe('multi-source downloads (2 seeders, 1 downloader, separate processes)', function () {
  this.timeout(120_000)
  const net = new TestNetwork()
  let seederA: Daemon
  let seederB: Daemon
  let downloader: Daemon
  let dir: string

  before(async function () {
    dir = await net.tempDir('files')
    // Rate-limited seeders, so neither can serve a whole file before the other joins in.
    ;[seederA, seederB, downloader] = await net.startConnected(['seeder-a', 'seeder-b', 'downloader'], {
      'seeder-a': { maxUploadRate: '2M' },
      'seeder-b': { maxUploadRate: '2M' }
    }) as [Daemon, Daemon, Daemon]
  })
  after(async function () { await net.cleanup() })

  it('downloads one file from both seeders at once, intact', async function () {
    const file = await randomFile(dir, 'both.bin', 8 * MiB)
    const cidA = await addFile(seederA.home, file.path)
    const cidB = await addFile(seederB.home, file.path)
    expect(cidB).to.equal(cidA)
    const peersBefore = await downloader.peers()

    const watch = watchSources(downloader, cidA)
    const output = join(dir, 'both.out')
    const result = await chiral(downloader.home, ['get', cidA, '-o', output])
    const sources = await watch.stop()
    expect(result.code, describeResult(result)).to.equal(0)
    expect(result.stdout).to.include('downloaded')
    await expectIntactDownload(output, file, cidA)

    const peersAfter = await downloader.peers()
    const fromA = bytesFrom(peersAfter, seederA.peerId) - bytesFrom(peersBefore, seederA.peerId)
    const fromB = bytesFrom(peersAfter, seederB.peerId) - bytesFrom(peersBefore, seederB.peerId)
    expect(fromA, 'bytes received from seeder A').to.be.greaterThan(0)
    expect(fromB, 'bytes received from seeder B').to.be.greaterThan(0)
    expect(fromA + fromB, 'every chunk stored exactly once').to.equal(file.size)

    // The download's own per-source view saw both seeders deliver.
    const sourceBytes = (peerId: string): number => [...sources.values()].filter(s => s.peerId === peerId).reduce((n, s) => n + s.bytes, 0)
    expect(sourceBytes(seederA.peerId), 'sources[] bytes from A').to.be.greaterThan(0)
    expect(sourceBytes(seederB.peerId), 'sources[] bytes from B').to.be.greaterThan(0)
    expect(new Set([...sources.values()].map(s => s.transport))).to.satisfy((set: Set<string>) => [...set].every(t => t === 'native' || t === 'http'))

    // Both seeders saw themselves upload (counted once a response is fully sent, so poll briefly).
    for (const seeder of [seederA, seederB]) {
      await waitFor(`${seeder.name} bytesServed > 0`, async () => (await seeder.file(cidA)).bytesServed > 0, { timeoutMs: 10_000 })
    }

    // The downloader now seeds the file itself.
    const own = await downloader.file(cidA)
    expect(own.state).to.equal('seeding')
    expect(own.path).to.equal(output)
  })

  it('counts what each seeder served in bytesServed (equal to its uploaded total, at least what the downloader kept)', async function () {
    const file = await randomFile(dir, 'count.bin', 6 * MiB)
    const cid = await addFile(seederA.home, file.path)
    await addFile(seederB.home, file.path)
    const peersBefore = await downloader.peers()
    const uploadedBefore = new Map<Daemon, number>()
    for (const seeder of [seederA, seederB]) {
      // Racing duplicates of the previous test's download may still be counted: start from a quiet seeder.
      let last = -1
      const quiet = await waitFor(`${seeder.name} to finish earlier uploads`, async () => {
        const now = (await seeder.status()).totals.uploaded
        const settled = now === last
        last = now
        return settled ? { now } : undefined
      }, { timeoutMs: 10_000, intervalMs: 500 })
      uploadedBefore.set(seeder, quiet.now)
    }
    const output = join(dir, 'count.out')
    const result = await chiral(downloader.home, ['get', cid, '-o', output])
    expect(result.code, describeResult(result)).to.equal(0)
    const peersAfter = await downloader.peers()
    for (const seeder of [seederA, seederB]) {
      const received = bytesFrom(peersAfter, seeder.peerId) - bytesFrom(peersBefore, seeder.peerId)
      expect(received, `${seeder.name} delivered`).to.be.greaterThan(0)
      // Serving ends (and is counted) a little after the downloader has what it needs.
      let served = 0
      let uploaded = 0
      await waitFor(`${seeder.name} bytesServed to match its uploaded total`, async () => {
        served = (await seeder.file(cid)).bytesServed
        uploaded = (await seeder.status()).totals.uploaded - (uploadedBefore.get(seeder) ?? 0)
        return served >= received && served === uploaded
      }, { timeoutMs: 10_000, intervalMs: 250 }).catch(() => {})
      // A seeder can serve more than was kept (raced duplicates, the manifest) but never less.
      expect(served, `${seeder.name} bytesServed vs bytes the downloader got from it`).to.be.at.least(received)
      expect(served, `${seeder.name} bytesServed vs its totals.uploaded for this file only`).to.equal(uploaded)
    }
  })

  it('completes from the remaining seeder when the other is killed (-9) mid-download', async function () {
    const file = await randomFile(dir, 'kill.bin', 24 * MiB)
    const cid = await addFile(seederA.home, file.path)
    await addFile(seederB.home, file.path)
    const peersBefore = await downloader.peers()
    const output = join(dir, 'kill.out')
    const watch = watchSources(downloader, cid)
    const getting = chiral(downloader.home, ['get', cid, '-o', output], { timeoutMs: 90_000 })

    // Wait until both seeders delivered and the download is well under way, then kill B.
    const atKill = await waitFor('both seeders to deliver and 20% done', () => {
      const view = watch.latest()
      if (view == null || view.size == null) return false
      const fromB = view.sources.filter(s => s.peerId === seederB.peerId).reduce((n, s) => n + s.bytes, 0)
      const fromA = view.sources.filter(s => s.peerId === seederA.peerId).reduce((n, s) => n + s.bytes, 0)
      return fromA > 0 && fromB > 0 && view.bytesDone >= view.size * 0.2 ? view : false
    }, { timeoutMs: 30_000, intervalMs: 50 })
    expect(atKill.bytesDone, 'download not finished when the seeder dies').to.be.lessThan(file.size * 0.6)
    await seederB.kill9()
    expect(seederB.running).to.equal(false)

    const result = await getting
    const sources = await watch.stop()
    expect(result.code, describeResult(result)).to.equal(0)
    await expectIntactDownload(output, file, cid)

    const peersAfter = await downloader.peers()
    const fromA = bytesFrom(peersAfter, seederA.peerId) - bytesFrom(peersBefore, seederA.peerId)
    const fromB = bytesFrom(peersAfter, seederB.peerId) - bytesFrom(peersBefore, seederB.peerId)
    expect(fromB, 'B delivered before it died').to.be.greaterThan(0)
    expect(fromA, 'A delivered the rest').to.be.at.least(file.size - fromB)
    expect(fromA + fromB).to.equal(file.size)
    // The dead seeder's sources were given up on.
    const deadSources = [...sources.values()].filter(s => s.peerId === seederB.peerId)
    expect(deadSources.length, 'B had sources').to.be.greaterThan(0)
    expect(deadSources.some(s => s.dropped != null), `B's sources dropped: ${JSON.stringify(deadSources)}`).to.equal(true)
  })
})
