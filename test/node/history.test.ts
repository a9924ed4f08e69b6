import { expect } from 'chai'
import { HISTORY_SAMPLES } from '../../node/config/constants.js'
import { MetricsHistory, SampleRing } from '../../node/daemon/history.js'
import { MiB, TestNetwork, addFile, randomFile, run, waitFor, type Daemon } from './helpers/index.js'

interface HistoryView {
  intervalMs: number
  capacity: number
  samples: Array<{ at: number, upload: number, download: number, hashrate: number }>
}

describe('bandwidth and hashrate history', function () {
  describe('ring', function () {
    it('keeps at most its capacity, oldest first, and turns counters into rates', function () {
      const ring = new SampleRing(3)
      for (let i = 1; i <= 5; i++) ring.push({ at: i, upload: i, download: 0, hashrate: 0 })
      expect(ring.size).to.equal(3)
      expect(ring.list().map(sample => sample.at)).to.deep.equal([3, 4, 5])

      let now = 0
      let uploaded = 0
      const history = new MetricsHistory({ uploaded: () => uploaded, downloaded: () => 0, hashrate: () => 7 }, 1000, 2, () => now)
      history.sample() // the baseline: no rate yet
      expect(history.list()).to.have.length(0)
      for (let i = 0; i < 4; i++) {
        now += 2000
        uploaded += 4000
        history.sample()
      }
      expect(history.list()).to.deep.equal([
        { at: 6000, upload: 2000, download: 0, hashrate: 7 },
        { at: 8000, upload: 2000, download: 0, hashrate: 7 }
      ])
    })
  })

  describe('GET /api/history on a daemon that mines and serves', function () {
    this.timeout(120_000)
    const net = new TestNetwork()
    let node: Daemon

    after(async function () { await net.cleanup() })

    it('returns non-zero upload and hashrate samples, never more than the bound', async function () {
      node = await net.start('history', { mine: true, genesis: 'dev', maxUploadRate: '2MiB', env: { CHIRAL_HISTORY_INTERVAL_MS: '500' } })
      const dir = await net.tempDir('files')
      const file = await randomFile(dir, 'served.bin', 6 * MiB)
      const cid = await addFile(node.home, file.path)
      const url = (await node.ok<{ links: { http: string[] } }>('GET', `/api/files/${cid}`)).links.http[0]
      if (url == null) throw new Error('no HTTP link')
      await waitFor('a first history sample', async () => (await node.ok<HistoryView>('GET', '/api/history')).samples.length > 0)
      const fetched = await run('curl', ['-s', '-o', '/dev/null', '--max-time', '60', url], { timeoutMs: 70_000 })
      expect(fetched.code).to.equal(0)
      // The transport counts a response's bytes when it ends, so the upload shows in the next sample.
      const history = await waitFor('history samples with a hashrate and an upload rate', async () => {
        const view = await node.ok<HistoryView>('GET', '/api/history')
        return view.samples.some(sample => sample.hashrate > 0) && view.samples.some(sample => sample.upload > 0) ? view : undefined
      }, { timeoutMs: 60_000 })
      expect(history.intervalMs).to.equal(500)
      expect(history.capacity).to.equal(HISTORY_SAMPLES)
      expect(history.samples.length).to.be.greaterThan(1).and.at.most(HISTORY_SAMPLES)
      const uploads = history.samples.filter(sample => sample.upload > 0)
      expect(uploads, 'samples taken while curl downloaded').to.not.have.length(0)
      // Rates times their intervals add up to the bytes served.
      const served = history.samples.reduce((sum, sample, i) => sum + sample.upload * (sample.at - (history.samples[i - 1]?.at ?? sample.at - history.intervalMs)) / 1000, 0)
      expect(served).to.be.within(0.9 * 6 * MiB, 1.1 * 6 * MiB)
      const times = history.samples.map(sample => sample.at)
      expect(times).to.deep.equal([...times].sort((a, b) => a - b))
    })
  })
})
