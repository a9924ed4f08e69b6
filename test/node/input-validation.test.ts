import { expect } from 'chai'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  TestNetwork, addFile, chiral, describeResult, randomFile, run,
  type Daemon, type TestFile
} from './helpers/index.js'

/** 78 digits: above 2^256 - 1 (about 1.16e77), so no contract could ever take it. */
const ABOVE_UINT256 = '9'.repeat(78)
const UINT256_MAX = (2n ** 256n - 1n).toString()

interface ErrorView { error: string, message: string }

describe('Input validation (clear 400s against a daemon)', function () {
  this.timeout(90_000)
  const net = new TestNetwork()
  let node: Daemon
  let dir: string
  let file: TestFile

  before(async function () {
    dir = await net.tempDir('files')
    node = await net.start('validation')
    file = await randomFile(dir, 'file.bin', 4096 + 17)
  })
  after(async function () { await net.cleanup() })

  it('refuses a price above uint256 in POST /api/files and chiral add --price', async function () {
    const response = await node.api<ErrorView>('POST', '/api/files', { path: file.path, pricePerMiB: ABOVE_UINT256 })
    expect(response.status, response.text).to.equal(400)
    expect(response.body.error).to.equal('INVALID_INPUT')
    expect(response.body.message).to.include('2^256')
    const cli = await chiral(node.home, ['add', file.path, '--price', ABOVE_UINT256])
    expect(cli.code, describeResult(cli)).to.not.equal(0)
    expect(cli.stderr).to.include('2^256')
    expect(await node.files()).to.have.length(0)
    // The largest amount itself is a price.
    const max = await node.api<{ pricePerMiB: string }>('POST', '/api/files', { path: file.path, pricePerMiB: UINT256_MAX })
    expect(max.status, max.text).to.equal(201)
    expect(max.body.pricePerMiB).to.equal(UINT256_MAX)
  })

  it('refuses maxPricePerMiB and maxCostWei above uint256 when starting a download or asking a quote', async function () {
    const cid = await addFile(node.home, file.path)
    for (const limits of [{ maxPricePerMiB: ABOVE_UINT256 }, { maxCostWei: ABOVE_UINT256 }]) {
      const response = await node.api<ErrorView>('POST', '/api/downloads', { cid, ...limits })
      expect(response.status, response.text).to.equal(400)
      expect(response.body.error).to.equal('INVALID_INPUT')
      expect(response.body.message).to.include(Object.keys(limits)[0] as string).and.include('2^256')
    }
    const quote = await node.api<ErrorView>('POST', '/api/downloads/quote', { cid, maxPricePerMiB: ABOVE_UINT256 })
    expect(quote.status, quote.text).to.equal(400)
    expect(quote.body.message).to.include('2^256')
  })

  it('refuses rate limits that are not whole numbers of at most 1 TiB/s', async function () {
    const before = await node.ok<{ maxUploadRate: number, maxDownloadRate: number }>('GET', '/api/settings/limits')
    for (const body of [{ maxUploadRate: 1e300 }, { maxDownloadRate: 2 ** 40 + 1 }, { maxUploadRate: 1.5 }, { maxUploadRate: -1 }]) {
      const response = await node.api<ErrorView>('PATCH', '/api/settings/limits', body)
      expect(response.status, `${JSON.stringify(body)}: ${response.text}`).to.equal(400)
      expect(response.body.error).to.equal('INVALID_INPUT')
    }
    expect(await node.ok('GET', '/api/settings/limits')).to.deep.equal(before)
    const max = await node.api<{ maxUploadRate: number }>('PATCH', '/api/settings/limits', { maxUploadRate: 2 ** 40 })
    expect(max.status, max.text).to.equal(200)
    expect(max.body.maxUploadRate).to.equal(2 ** 40)
    await node.ok('PATCH', '/api/settings/limits', before)
  })

  it('ignores a Range in a unit other than bytes (RFC 9110): 200 with the whole file', async function () {
    const cid = await addFile(node.home, file.path)
    const status = await node.status()
    const url = `${status.urls.http[0] as string}/chiral/v1/files/${cid}`
    for (const range of ['items=0-5', 'items=99999999-']) {
      const response = await fetch(url, { headers: { Range: range } })
      const body = Buffer.from(await response.arrayBuffer())
      expect(response.status, range).to.equal(200)
      expect(response.headers.get('content-range'), range).to.equal(null)
      expect(body.length, range).to.equal(file.size)
    }
    // bytes still work.
    const partial = await fetch(url, { headers: { Range: 'bytes=0-5' } })
    expect(partial.status).to.equal(206)
    expect(Buffer.from(await partial.arrayBuffer()).length).to.equal(6)
  })

  it('adds only regular files: not /proc/self/environ, a FIFO, a device or a directory', async function () {
    const fifo = join(dir, 'pipe')
    const fifoMade = await run('mkfifo', [fifo])
    expect(fifoMade.code, describeResult(fifoMade)).to.equal(0)
    const subdir = join(dir, 'subdir')
    await mkdir(subdir)
    const seeded = (await node.files()).length
    for (const path of ['/proc/self/environ', fifo, '/dev/zero', '/dev/null', subdir]) {
      const response = await node.api<ErrorView>('POST', '/api/files', { path })
      expect(response.status, `${path}: ${response.text}`).to.equal(400)
      expect(response.body.error, path).to.equal('NOT_A_FILE')
      const cli = await chiral(node.home, ['add', path], { timeoutMs: 30_000 })
      expect(cli.code, `${path}: ${describeResult(cli)}`).to.not.equal(0)
      expect(cli.timedOut, path).to.equal(false)
    }
    expect(await node.files()).to.have.length(seeded)
  })
})
