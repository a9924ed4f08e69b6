import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'chai'
import { MAX_NAME_BYTES, numberedName, safeFileName } from '../../node/transfer/output-path.js'
import {
  LYING_SEEDER_PATH, MiB, TestNetwork, addFile, chiral, describeResult, expectIntactDownload, randomFile, sleep,
  type Daemon, type DownloadView
} from './helpers/index.js'

const CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'

describe('names a seeder gives', function () {
  it('keep only their last path component, without control or bidirectional characters, never . or ..', function () {
    expect(safeFileName('../../evil', CID)).to.equal('evil')
    expect(safeFileName('..\\..\\windows\\evil.exe', CID)).to.equal('evil.exe')
    expect(safeFileName('/etc/passwd', CID)).to.equal('passwd')
    expect(safeFileName('bad\u0007\u001b[2Jname\u0000\u007f\u0085.txt', CID)).to.equal('bad[2Jname.txt')
    expect(safeFileName('invoice\u202Efdp.exe', CID)).to.equal('invoicefdp.exe')
    for (const hostile of ['', '.', '..', '...', 'a/..', '  ', '\u0001\u0002', 'dir/']) expect(safeFileName(hostile, CID), JSON.stringify(hostile)).to.equal(CID)
    expect(safeFileName('notes.txt', CID)).to.equal('notes.txt')
    expect(safeFileName('.bashrc', CID)).to.equal('.bashrc')
    expect(safeFileName('日本語のファイル.pdf', CID)).to.equal('日本語のファイル.pdf')
  })

  it('are cut to the file system\'s limit in bytes (leaving room for .chiral-part), on a character boundary, keeping the extension', function () {
    const long = safeFileName(`${'é'.repeat(300)}.tar.gz`, CID)
    expect(Buffer.byteLength(long)).to.be.at.most(MAX_NAME_BYTES)
    expect(Buffer.byteLength(long + '.chiral-part')).to.be.at.most(255)
    expect(long).to.match(/^é+\.gz$/)
    const lone = safeFileName('a\uD800b.txt', CID)
    expect(Buffer.from(lone).toString()).to.equal(lone)
  })

  it('get " (n)" before the extension when taken, within the same limit', function () {
    expect(numberedName('notes.txt', 1)).to.equal('notes (1).txt')
    expect(numberedName('archive', 12)).to.equal('archive (12)')
    expect(numberedName('.bashrc', 2)).to.equal('.bashrc (2)')
    const numbered = numberedName(`${'x'.repeat(MAX_NAME_BYTES - 4)}.txt`, 3)
    expect(Buffer.byteLength(numbered)).to.be.at.most(MAX_NAME_BYTES)
    expect(numbered).to.match(/x \(3\)\.txt$/)
  })
})

describe('a download never overwrites a file unless asked', function () {
  this.timeout(180_000)
  const net = new TestNetwork()
  let seeder: Daemon
  let downloader: Daemon

  before(async function () {
    seeder = await net.start('seeder', { script: LYING_SEEDER_PATH })
    downloader = await net.start('downloader', { bootstrap: [seeder.bootstrapAddress] })
    await downloader.waitForPeers(1)
  })
  after(async function () {
    if (this.currentTest?.state === 'failed') await net.keepLogs('download-output')
    await net.cleanup()
  })

  /** Seeds a fresh random file under `name` (as the seeder's own file name, or advertised by the double). */
  async function seed (name: string, size = 2 * MiB, advertised?: string): Promise<{ cid: string, file: Awaited<ReturnType<typeof randomFile>> }> {
    const own = await net.tempDir(`seeded-${Math.random().toString(16).slice(2)}`)
    const file = await randomFile(own, name, size)
    await writeFile(join(seeder.home, 'test-double.json'), JSON.stringify(advertised == null ? {} : { name: advertised }))
    const cid = await addFile(seeder.home, file.path)
    return { cid, file }
  }

  async function finished (cid: string): Promise<DownloadView> {
    for (let i = 0; i < 600; i++) {
      const view = await downloader.download(cid)
      if (['completed', 'failed', 'cancelled'].includes(view.state)) return view
      await sleep(100)
    }
    throw new Error(`download of ${cid} did not finish`)
  }

  it('into a directory holding a file of the same name: keeps the user\'s file and writes "notes (1).txt", then "notes (2).txt"', async function () {
    const { cid, file } = await seed('notes.txt')
    const into = await net.tempDir('clash')
    const mine = join(into, 'notes.txt')
    await writeFile(mine, 'the user\'s own notes\n')

    const result = await chiral(downloader.home, ['get', cid, '-o', into, '--yes'])
    expect(result.code, describeResult(result)).to.equal(0)
    expect(await readFile(mine, 'utf8') === 'the user\'s own notes\n', 'the user\'s file is untouched').to.equal(true)
    await expectIntactDownload(join(into, 'notes (1).txt'), file, cid)
    expect(result.stdout).to.include(join(into, 'notes (1).txt'))

    const again = await chiral(downloader.home, ['get', cid, '-o', into, '--yes'])
    expect(again.code, describeResult(again)).to.equal(0)
    await expectIntactDownload(join(into, 'notes (2).txt'), file, cid)
    expect(await readFile(mine, 'utf8') === 'the user\'s own notes\n', 'the user\'s file is untouched').to.equal(true)
    expect((await readdir(into)).sort()).to.deep.equal(['notes (1).txt', 'notes (2).txt', 'notes.txt'])
  })

  it('to an existing file: refused (exit 2, API 400) and the file kept, unless --force / "overwrite": true', async function () {
    const { cid, file } = await seed('report.pdf')
    const into = await net.tempDir('explicit')
    const target = join(into, 'report.pdf')
    await writeFile(target, 'keep me\n')

    const refused = await chiral(downloader.home, ['get', cid, '-o', target, '--yes'])
    expect(refused.code, describeResult(refused)).to.equal(2)
    expect(refused.stderr).to.match(/already exists/)
    expect(refused.stderr).to.match(/--force/)
    expect(refused.stderr.trim().split('\n')).to.have.length(1)
    const api = await downloader.api<{ error: string, message: string }>('POST', '/api/downloads', { cid, output: target })
    expect(api.status, api.text).to.equal(400)
    expect(api.body.error).to.equal('INVALID_INPUT')
    expect(api.body.message).to.match(/already exists/)
    expect(await readFile(target, 'utf8') === 'keep me\n', 'the user\'s file is untouched').to.equal(true)

    const forced = await chiral(downloader.home, ['get', cid, '-o', target, '--yes', '--force'])
    expect(forced.code, describeResult(forced)).to.equal(0)
    await expectIntactDownload(target, file, cid)

    // The API's flag, into a fresh file of the user's.
    const other = join(into, 'other.pdf')
    await writeFile(other, 'replace me\n')
    const started = await downloader.api<DownloadView>('POST', '/api/downloads', { cid, output: other, overwrite: true })
    expect(started.status, started.text).to.equal(202)
    expect((await finished(cid)).state).to.equal('completed')
    await expectIntactDownload(other, file, cid)
  })

  it('under a hostile name: lands sanitised inside the directory', async function () {
    const into = await net.tempDir('hostile/inner')
    const cases: Array<[string, string]> = [
      ['../../evil', 'evil'],
      ['con\u0007trol\u001b[31m\u202E.txt\n', 'control[31m.txt'],
      ['..', '']
    ]
    for (const [advertised, expected] of cases) {
      const { cid, file } = await seed('innocent.bin', 256 * 1024, advertised)
      const started = await downloader.api<DownloadView>('POST', '/api/downloads', { cid, output: into })
      expect(started.status, started.text).to.equal(202)
      const view = await finished(cid)
      expect(view.state, JSON.stringify(view.error)).to.equal('completed')
      const name = expected === '' ? cid : expected
      expect(view.outputPath).to.equal(join(into, name))
      await expectIntactDownload(join(into, name), file, cid)
    }
    expect(existsSync(join(into, '../../evil')), 'nothing outside the directory').to.equal(false)
    expect((await readdir(into)).sort()).to.have.length(3)
  })

  it('with no output: into the default directory, numbered on a clash too', async function () {
    const { cid, file } = await seed('default.bin', 512 * 1024)
    const downloads = join(downloader.home, 'downloads')
    await mkdir(downloads, { recursive: true })
    await writeFile(join(downloads, 'default.bin'), 'mine\n')
    const started = await downloader.api<DownloadView>('POST', '/api/downloads', { cid })
    expect(started.status, started.text).to.equal(202)
    expect((await finished(cid)).state).to.equal('completed')
    expect(await readFile(join(downloads, 'default.bin'), 'utf8') === 'mine\n', 'the user\'s file is untouched').to.equal(true)
    await expectIntactDownload(join(downloads, 'default (1).bin'), file, cid)
  })
})
