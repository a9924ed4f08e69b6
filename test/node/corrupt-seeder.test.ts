import { join } from 'node:path'
import { expect } from 'chai'
import {
  CORRUPTING_SEEDER_PATH, MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, run, sleep,
  type Daemon, type DownloadView
} from './helpers/index.js'

describe('a seeder serving corrupted chunks', function () {
  this.timeout(120_000)
  const net = new TestNetwork()
  let honest: Daemon
  let corrupt: Daemon
  let downloader: Daemon
  let dir: string

  before(async function () {
    dir = await net.tempDir('files')
    honest = await net.start('honest', { maxUploadRate: '4M' })
    ;[corrupt, downloader] = await Promise.all([
      net.start('corrupt', { script: CORRUPTING_SEEDER_PATH, bootstrap: [honest.bootstrapAddress] }),
      net.start('downloader', { bootstrap: [honest.bootstrapAddress] })
    ])
    await Promise.all([corrupt.waitForPeers(1), downloader.waitForPeers(1), honest.waitForPeers(2)])
  })
  after(async function () { await net.cleanup() })

  it('really corrupts what it serves (checked over HTTP)', async function () {
    const file = await randomFile(dir, 'probe.bin', 2 * MiB)
    const cid = await addFile(corrupt.home, file.path)
    const url = `${corrupt.httpUrl}/chiral/v1/files/${cid}`
    const result = await run('curl', ['-s', '-f', url])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdoutBytes.length).to.equal(file.size)
    const { createHash } = await import('node:crypto')
    expect(createHash('sha256').update(result.stdoutBytes).digest('hex')).to.not.equal(file.sha256)
  })

  it('is dropped, recorded as corrupt, and the download completes intact from the honest seeder', async function () {
    const file = await randomFile(dir, 'payload.bin', 8 * MiB)
    const cid = await addFile(corrupt.home, file.path)
    expect(await addFile(honest.home, file.path)).to.equal(cid)

    const output = join(dir, 'payload.out')
    const started = await downloader.api<DownloadView>('POST', '/api/downloads', { cid, output })
    expect(started.status, started.text).to.equal(202)
    const seen = new Map<string, DownloadView['sources'][number]>()
    let final: DownloadView | undefined
    const deadline = Date.now() + 60_000
    while (Date.now() < deadline) {
      const view = await downloader.download(cid)
      for (const source of view.sources) seen.set(source.id, source)
      if (['completed', 'failed', 'cancelled'].includes(view.state)) {
        final = view
        break
      }
      await sleep(50)
    }
    expect(final, 'download finished').to.not.equal(undefined)
    expect(final?.state, JSON.stringify(final?.error)).to.equal('completed')
    await expectIntactDownload(output, file, cid)

    const corruptSources = [...seen.values()].filter(source => source.peerId === corrupt.peerId)
    const honestSources = [...seen.values()].filter(source => source.peerId === honest.peerId)
    expect(corruptSources.length, `the corrupt seeder was used: ${JSON.stringify([...seen.values()])}`).to.be.greaterThan(0)
    expect(corruptSources.every(source => source.dropped != null), 'every source of the corrupt peer dropped').to.equal(true)
    expect(corruptSources.some(source => /corrupt/.test(source.dropped ?? ''))).to.equal(true)
    expect(corruptSources.reduce((n, source) => n + source.bytes, 0), 'no bytes accepted from the corrupt peer').to.equal(0)
    expect(honestSources.some(source => source.dropped == null), 'honest seeder kept').to.equal(true)

    const peers = await downloader.peers()
    const corruptPeer = peers.find(peer => peer.peerId === corrupt.peerId)
    const honestPeer = peers.find(peer => peer.peerId === honest.peerId)
    expect(corruptPeer?.corruptChunks, 'corruptChunks of the corrupt peer').to.be.greaterThan(0)
    expect(corruptPeer?.bytesDownloaded ?? 0).to.equal(0)
    expect(honestPeer?.corruptChunks).to.equal(0)
    expect(honestPeer?.bytesDownloaded).to.equal(file.size)
  })

  it('stays excluded from a later download, which still completes', async function () {
    const file = await randomFile(dir, 'second.bin', 4 * MiB)
    const cid = await addFile(corrupt.home, file.path)
    await addFile(honest.home, file.path)
    const output = join(dir, 'second.out')
    const result = await chiral(downloader.home, ['get', cid, '-o', output])
    expect(result.code, describeResult(result)).to.equal(0)
    await expectIntactDownload(output, file, cid)
    const corruptPeer = (await downloader.peers()).find(peer => peer.peerId === corrupt.peerId)
    expect(corruptPeer?.bytesDownloaded ?? 0, 'nothing from the corrupt peer was ever kept').to.equal(0)
  })
})
