import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'chai'
import {
  MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, run, unknownCid,
  type Daemon, type SeedFileView
} from './helpers/index.js'

const NO_SEEDERS = /no seeders found for (\S+) \(asked (\d+) peers?\)/

describe('CLI: stopping seeding and bad input', function () {
  this.timeout(120_000)
  const net = new TestNetwork()
  let seeder: Daemon
  let downloader: Daemon
  let dir: string

  before(async function () {
    dir = await net.tempDir('files')
    ;[seeder, downloader] = await net.startConnected(['seeder', 'downloader']) as [Daemon, Daemon]
  })
  after(async function () { await net.cleanup() })

  describe('stop seeding', function () {
    it('makes get fail with exit 4 and the no-seeders message, until seeding resumes', async function () {
      const file = await randomFile(dir, 'stopped.bin', 4 * MiB)
      const cid = await addFile(seeder.home, file.path)

      const stop = await chiral(seeder.home, ['stop', cid])
      expect(stop.code, describeResult(stop)).to.equal(0)
      expect(stop.stdout).to.include(`stopped seeding ${cid}`)
      const listed = JSON.parse((await chiral(seeder.home, ['ls', '--json'])).stdout) as { files: SeedFileView[] }
      expect(listed.files.find(entry => entry.cid === cid)?.state).to.equal('stopped')
      const http = await fetch(`${seeder.httpUrl}/chiral/v1/files/${cid}`)
      await http.body?.cancel()
      expect(http.status, 'a stopped file is not served over HTTP').to.equal(404)

      const output = join(dir, 'stopped.out')
      const get = await chiral(downloader.home, ['get', cid, '-o', output])
      expect(get.code, describeResult(get)).to.equal(4)
      const match = NO_SEEDERS.exec(get.stderr)
      expect(match, get.stderr).to.not.equal(null)
      expect(match?.[1]).to.equal(cid)
      const peersAsked = Number(match?.[2])
      expect(existsSync(output)).to.equal(false)

      // Control: the same get succeeds once the seeder resumes, so the failure above was the stop.
      const resumed = await seeder.api<SeedFileView>('POST', `/api/files/${cid}/resume`)
      expect(resumed.status, resumed.text).to.equal(200)
      expect(resumed.body.state).to.equal('seeding')
      const again = await chiral(downloader.home, ['get', cid, '-o', output])
      expect(again.code, describeResult(again)).to.equal(0)
      await expectIntactDownload(output, file, cid)

      // One other node exists and the downloader did reach it: the message must not count the
      // downloader itself (which answers from its own provider cache) as a peer asked.
      expect(peersAsked, `peers asked in "${get.stderr.trim()}" (the network has 1 other node)`).to.equal(1)
    })
  })

  describe('bad input', function () {
    const malformed = ['not-a-cid', 'bafkreiabc', 'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', '../../etc/passwd']

    for (const command of ['get', 'stop'] as const) {
      it(`${command} with a malformed cid exits 2 and says so`, async function () {
        for (const input of malformed) {
          const result = await chiral(downloader.home, [command, input])
          expect(result.code, `${command} ${input}: ${describeResult(result)}`).to.equal(2)
          expect(result.stderr).to.match(/not a valid content id/)
          expect(result.stderr).to.include(input)
          expect(result.stdout).to.equal('')
        }
      })
    }

    it('add of a missing file exits 2 and names the file', async function () {
      const missing = join(dir, 'does-not-exist.bin')
      const result = await chiral(seeder.home, ['add', missing])
      expect(result.code, describeResult(result)).to.equal(2)
      expect(result.stderr).to.match(/no such file/)
      expect(result.stderr).to.include(missing)
    })

    it('add of a directory exits 2 and asks for a regular file', async function () {
      const folder = join(dir, 'a-directory')
      await mkdir(folder, { recursive: true })
      const result = await chiral(seeder.home, ['add', folder])
      expect(result.code, describeResult(result)).to.equal(2)
      expect(result.stderr).to.match(/directory/)
      expect(result.stderr).to.include(folder)
      expect((await seeder.files()).some(entry => entry.path === folder)).to.equal(false)
    })

    it('stop of a file that is not seeded fails (not exit 0) and says so', async function () {
      const cid = unknownCid()
      const result = await chiral(seeder.home, ['stop', cid])
      expect(result.code, describeResult(result)).to.not.equal(0)
      expect(result.stderr).to.include(`not seeding ${cid}`)
    })

    it('get of content nobody has exits 4 and says how many peers were asked', async function () {
      const cid = unknownCid()
      const result = await chiral(downloader.home, ['get', cid, '-o', join(dir, 'nobody.out')])
      expect(result.code, describeResult(result)).to.equal(4)
      const match = NO_SEEDERS.exec(result.stderr)
      expect(match, result.stderr).to.not.equal(null)
      expect(match?.[1]).to.equal(cid)
      expect(Number(match?.[2])).to.equal(1)
    })

    it('get into a full disk exits 5 with a disk-full message', async function () {
      const small = join(dir, 'tiny-disk')
      await mkdir(small, { recursive: true })
      const mount = await run('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', small], { timeoutMs: 10_000 })
      if (mount.code !== 0) {
        if (this.test != null) this.test.title += ` (skipped: cannot mount a tmpfs: ${mount.stderr.trim() || `exit ${mount.code}`})`
        this.skip()
      }
      net.registerMount(small)
      const file = await randomFile(dir, 'too-big.bin', 6 * MiB)
      const cid = await addFile(seeder.home, file.path)
      const output = join(small, 'too-big.out')
      const result = await chiral(downloader.home, ['get', cid, '-o', output])
      expect(result.code, describeResult(result)).to.equal(5)
      expect(result.stderr).to.match(/disk full/i)
      expect(existsSync(output)).to.equal(false)
      const view = await downloader.download(cid)
      expect(view.state).to.equal('failed')
      expect(view.error?.code).to.equal('DISK_FULL')
    })

    it('every command exits 3 when no daemon runs for the home', async function () {
      const empty = await net.tempDir('never-started')
      const cid = unknownCid()
      const file = await randomFile(dir, 'exists.bin', 1024)
      for (const args of [['status'], ['ls'], ['peers'], ['limits'], ['get', cid], ['stop', cid], ['add', file.path]]) {
        const result = await chiral(empty, args)
        expect(result.code, `${args.join(' ')}: ${describeResult(result)}`).to.equal(3)
        expect(result.stderr).to.match(/not running/)
      }
    })

    it('exits 3 when the recorded daemon was killed (-9) and left its api.json behind', async function () {
      const doomed = await net.start('doomed')
      const before = await chiral(doomed.home, ['status', '--json'])
      expect(before.code, describeResult(before)).to.equal(0)
      expect((JSON.parse(before.stdout) as { peerId: string }).peerId).to.equal(doomed.peerId)
      await doomed.kill9()
      expect(existsSync(join(doomed.home, 'api.json')), 'stale api.json left by kill -9').to.equal(true)
      const after = await chiral(doomed.home, ['status'])
      expect(after.code, describeResult(after)).to.equal(3)
      expect(after.stderr).to.match(/not running/)
    })
  })
})
