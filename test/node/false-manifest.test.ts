import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'chai'
import { Database } from '../../node/db/database.js'
import {
  LYING_SEEDER_PATH, MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, sleep, watchSources,
  type Daemon, type DownloadView
} from './helpers/index.js'

/** What the lying seeder (test double) does with the files added from now on. */
async function behave (daemon: Daemon, behaviour: { falseManifest?: boolean, name?: string }): Promise<void> {
  await writeFile(join(daemon.home, 'test-double.json'), JSON.stringify(behaviour))
}

/** The manifest a stopped daemon keeps for an unfinished download of `cid`, if any. */
async function keptManifest (home: string, cid: string): Promise<Uint8Array | undefined> {
  const db = new Database(home)
  await db.open()
  try {
    return await db.table<Uint8Array>('download-manifests', 'view').get(cid)
  } finally {
    await db.close()
  }
}

async function finished (daemon: Daemon, cid: string, timeoutMs = 90_000): Promise<DownloadView> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const view = await daemon.download(cid)
    if (['completed', 'failed', 'cancelled'].includes(view.state)) return view
    await sleep(100)
  }
  throw new Error(`download of ${cid} did not finish within ${timeoutMs} ms:\n${daemon.logTail()}`)
}

describe('seeders signing a false manifest (right content id and last state, other states made up)', function () {
  this.timeout(240_000)
  const net = new TestNetwork()
  let honest: Daemon
  let liars: Daemon[]
  let downloader: Daemon
  let dir: string

  before(async function () {
    dir = await net.tempDir('files')
    // The downloader is connected to every liar, so they answer its lookups first and together
    // (the first batch a vote would have gone by); the honest seeder may come with them or later.
    const hub = await net.start('liar-1', { script: LYING_SEEDER_PATH })
    const bootstrap = [hub.bootstrapAddress]
    const others = await Promise.all([
      net.start('honest', { bootstrap }),
      net.start('downloader', { bootstrap }),
      ...[2, 3].map(async n => await net.start(`liar-${n}`, { script: LYING_SEEDER_PATH, bootstrap }))
    ])
    ;[honest, downloader] = others as [Daemon, Daemon]
    liars = [hub, ...others.slice(2)]
    await Promise.all(liars.map(async liar => { await behave(liar, { falseManifest: true }) }))
    for (const liar of liars.slice(1)) {
      const connected = await downloader.api('POST', '/api/peers', { address: liar.bootstrapAddress })
      expect(connected.status, connected.text).to.equal(200)
    }
    await Promise.all([downloader.waitForPeers(3), honest.waitForPeers(1), hub.waitForPeers(4)])
  })
  after(async function () {
    if (this.currentTest?.state === 'failed') await net.keepLogs('false-manifest')
    await net.cleanup()
  })

  it('three sybils agreeing on it do not outvote one honest seeder: the download completes from the honest one, which is not blamed', async function () {
    const file = await randomFile(dir, 'sybil.bin', 6 * MiB)
    const cid = await addFile(honest.home, file.path)
    for (const liar of liars) expect(await addFile(liar.home, file.path)).to.equal(cid)
    const rootOf = async (daemon: Daemon): Promise<string> =>
      (await daemon.ok<Array<{ cid: string, manifestRoot: string }>>('GET', '/api/files')).find(file => file.cid === cid)?.manifestRoot ?? ''
    const liarRoots = new Set(await Promise.all(liars.map(rootOf)))
    expect(liarRoots.size, 'the sybils agree on one manifest').to.equal(1)
    expect(liarRoots.has(await rootOf(honest)), 'a manifest other than the honest one').to.equal(false)

    const output = join(dir, 'sybil.out')
    const watch = watchSources(downloader, cid)
    const started = await downloader.api<DownloadView>('POST', '/api/downloads', { cid, output })
    expect(started.status, started.text).to.equal(202)
    const final = await finished(downloader, cid)
    const seen = [...(await watch.stop()).values()]
    expect(final.state, `${JSON.stringify(final.error)}\n${downloader.logTail()}`).to.equal('completed')
    await expectIntactDownload(output, file, cid)

    const peers = await downloader.peers()
    const honestPeer = peers.find(peer => peer.peerId === honest.peerId)
    expect(honestPeer?.corruptChunks, 'the honest seeder is never blamed').to.equal(0)
    expect(honestPeer?.bytesDownloaded, 'every byte came from the honest seeder').to.equal(file.size)
    expect(seen.some(source => liars.some(liar => liar.peerId === source.peerId)), `the sybils' manifest was tried first: ${JSON.stringify(seen)}`).to.equal(true)
    for (const liar of liars) {
      const stats = peers.find(peer => peer.peerId === liar.peerId)
      expect(stats?.bytesDownloaded ?? 0, `nothing kept from ${liar.name}`).to.equal(0)
      // Each sybil tried is dropped for the chunk that failed under its own manifest.
      const sources = seen.filter(source => source.peerId === liar.peerId)
      expect(sources.every(source => /corrupt/.test(source.dropped ?? '')), `${liar.name}: ${JSON.stringify(sources)}`).to.equal(true)
      if (sources.length > 0) expect(stats?.corruptChunks ?? 0).to.be.greaterThan(0)
    }
    expect(seen.filter(source => source.peerId === honest.peerId).every(source => source.dropped == null), JSON.stringify(seen)).to.equal(true)
  })

  it('a download that met only a liar fails, keeps no manifest (after DELETE and a restart too), and then completes from an honest seeder', async function () {
    const file = await randomFile(dir, 'liar-first.bin', 4 * MiB)
    const liar = liars[0] as Daemon
    const cid = await addFile(liar.home, file.path)
    const output = join(dir, 'liar-first.out')

    const failed = await chiral(downloader.home, ['get', cid, '-o', output, '--yes'])
    expect(failed.code, describeResult(failed)).to.equal(1)
    expect(failed.stderr).to.match(/corrupt/)
    expect((await downloader.download(cid)).state).to.equal('failed')

    await downloader.stop()
    const kept = await keptManifest(downloader.home, cid)
    downloader = await net.start('downloader-restarted', { home: downloader.home, bootstrap: [liar.bootstrapAddress] })
    await downloader.waitForPeers(1)
    expect(kept, 'the false manifest is not kept').to.equal(undefined)
    const deleted = await downloader.api('DELETE', `/api/downloads/${cid}`)
    expect(deleted.status, deleted.text).to.equal(200)

    expect(await addFile(honest.home, file.path)).to.equal(cid)
    const again = await chiral(downloader.home, ['get', cid, '-o', output, '--yes'])
    expect(again.code, `${describeResult(again)}\n${downloader.logTail()}`).to.equal(0)
    await expectIntactDownload(output, file, cid)
    const honestPeer = (await downloader.peers()).find(peer => peer.peerId === honest.peerId)
    expect(honestPeer?.corruptChunks, 'the honest seeder is never blamed').to.equal(0)
  })

  it('a failed download is retried, without a restart, once an honest seeder comes', async function () {
    const file = await randomFile(dir, 'retry.bin', 3 * MiB)
    const liar = liars[1] as Daemon
    const cid = await addFile(liar.home, file.path)
    const output = join(dir, 'retry.out')
    const failed = await chiral(downloader.home, ['get', cid, '-o', output, '--yes'])
    expect(failed.code, describeResult(failed)).to.equal(1)

    expect(await addFile(honest.home, file.path)).to.equal(cid)
    const again = await chiral(downloader.home, ['get', cid, '-o', output, '--yes'])
    expect(again.code, `${describeResult(again)}\n${downloader.logTail()}`).to.equal(0)
    await expectIntactDownload(output, file, cid)
    const honestPeer = (await downloader.peers()).find(peer => peer.peerId === honest.peerId)
    expect(honestPeer?.corruptChunks, 'the honest seeder is never blamed').to.equal(0)

    await downloader.stop()
    const kept = await keptManifest(downloader.home, cid)
    downloader = await net.start('downloader-restarted-again', { home: downloader.home, bootstrap: [liar.bootstrapAddress] })
    expect(kept, 'no manifest kept once the download is done').to.equal(undefined)
  })
})
