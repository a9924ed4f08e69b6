import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import {
  MiB, TestNetwork, addFile, expectIntactDownload, randomFile, waitFor,
  type Daemon, type DownloadView
} from './helpers/index.js'

describe('a downloader killed (-9) mid-transfer', function () {
  this.timeout(150_000)
  const net = new TestNetwork()
  let seeder: Daemon
  let downloader: Daemon
  let dir: string

  before(async function () {
    dir = await net.tempDir('files')
    ;[seeder, downloader] = await net.startConnected(['seeder', 'downloader'], { downloader: { maxDownloadRate: '2M' } }) as [Daemon, Daemon]
  })
  after(async function () { await net.cleanup() })

  it('resumes on restart with the same home and completes without refetching', async function () {
    const file = await randomFile(dir, 'big.bin', 24 * MiB)
    const cid = await addFile(seeder.home, file.path)
    const output = join(dir, 'big.out')
    const started = await downloader.api<DownloadView>('POST', '/api/downloads', { cid, output })
    expect(started.status, started.text).to.equal(202)

    // Half way, so a restart from zero would cost more than the margins below.
    const before = await waitFor('the download to pass 50%', async () => {
      const view = await downloader.download(cid)
      if (view.state === 'failed') throw new Error(`download failed: ${JSON.stringify(view.error)}`)
      return view.size != null && view.bytesDone >= view.size * 0.5 ? view : false
    }, { timeoutMs: 60_000, intervalMs: 100 })
    expect(before.state).to.equal('downloading')
    expect(before.bytesDone, 'killed before the end').to.be.lessThan(file.size * 0.9)
    await downloader.kill9()

    expect(existsSync(output), 'no final file after the kill').to.equal(false)
    expect(existsSync(`${output}.chiral-part`), 'partial file kept').to.equal(true)
    expect(statSync(`${output}.chiral-part`).size).to.equal(file.size)
    // Let the seeder finish counting what it pushed before the kill.
    let servedAtRestart = -1
    await waitFor('the seeder\'s upload count to settle', async () => {
      const now = (await seeder.file(cid)).bytesServed
      const settled = now === servedAtRestart
      servedAtRestart = now
      return settled
    }, { timeoutMs: 15_000, intervalMs: 1000 })

    // Same home, same flags: the daemon picks the download up by itself.
    const restarted = await net.start('downloader-restarted', { home: downloader.home, bootstrap: [seeder.bootstrapAddress], maxDownloadRate: '2M' })
    downloader = restarted
    const resumedAt = await waitFor('the resumed download to report progress', async () => {
      const view = await restarted.download(cid)
      // bytesDone is recomputed from the verified chunks once the manifest is loaded again.
      return (view.state === 'downloading' && view.bytesDone > 0) || view.state === 'completed' || view.state === 'failed' ? view : false
    }, { timeoutMs: 30_000, intervalMs: 50 })
    expect(resumedAt.state, `resumed download: ${JSON.stringify(resumedAt.error)}\n${restarted.logTail()}`).to.not.equal('failed')
    // Every chunk verified before the kill was kept.
    expect(resumedAt.bytesDone, 'bytes kept across the kill').to.be.at.least(before.bytesDone)

    const final = await waitFor('the resumed download to finish', async () => {
      const view = await restarted.download(cid)
      return ['completed', 'failed', 'cancelled'].includes(view.state) ? view : false
    }, { timeoutMs: 60_000, intervalMs: 200 })
    expect(final.state, JSON.stringify(final.error)).to.equal('completed')
    await expectIntactDownload(output, file, cid)

    let served = -1
    await waitFor('the seeder\'s upload count to settle', async () => {
      const now = (await seeder.file(cid)).bytesServed
      const settled = now === served
      served = now
      return settled
    }, { timeoutMs: 15_000, intervalMs: 1000 })
    // After the restart the seeder served only what was missing (plus a few raced chunks), not the file again.
    const missing = file.size - resumedAt.bytesDone
    expect(served - servedAtRestart, `served after the restart (${missing} bytes were missing)`).to.be.lessThan(missing + 4 * MiB)
    // Overall about one copy: interrupted at >= 50%, a restart from zero would have needed
    // >= 1.5 x size = size + 12 MiB; the margin covers chunks in flight at the kill.
    const margin = 8 * MiB
    const detail = `seeder bytesServed ${served}: ${servedAtRestart} before the restart, when the downloader had stored ${before.bytesDone}+; ${resumedAt.bytesDone} kept`
    expect(served, detail).to.be.at.least(file.size)
    expect(served, detail).to.be.lessThan(file.size + margin)
    // Chunks the downloader stored from the seeder, across both runs: each exactly once.
    const fromSeeder = (await restarted.peers()).find(peer => peer.peerId === seeder.peerId)
    expect(fromSeeder?.bytesDownloaded, 'bytes the downloader stored from the seeder, across both runs').to.be.at.most(file.size + 2 * MiB)

    // And it seeds the result.
    expect((await restarted.file(cid)).state).to.equal('seeding')
  })
})
