import { createHash } from 'node:crypto'
import { open, readFile, writeFile } from 'node:fs/promises'
import { expect } from 'chai'
import {
  MiB, TestNetwork, addFile, chiral, describeResult, randomFile, run, sleep, waitFor,
  type Daemon, type SeedFileView, type TestFile
} from './helpers/index.js'

async function curl (args: string[]): Promise<{ code: number | null, body: Buffer, stderr: string }> {
  const result = await run('curl', ['-s', '--max-time', '60', ...args], { timeoutMs: 70_000 })
  return { code: result.code, body: result.stdoutBytes, stderr: result.stderr }
}

/** Status code and headers of a request, via curl -D. */
async function curlHead (args: string[]): Promise<{ status: number, headers: Record<string, string> }> {
  const result = await run('curl', ['-s', '-o', '/dev/null', '-D', '-', '--max-time', '30', ...args], { timeoutMs: 40_000 })
  const lines = result.stdout.split('\r\n')
  const status = Number(/^HTTP\/\S+ (\d+)/.exec(lines[0] ?? '')?.[1])
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status, headers }
}

describe('HTTP transport (curl against a daemon)', function () {
  this.timeout(90_000)
  const net = new TestNetwork()
  let node: Daemon
  let dir: string
  let file: TestFile
  let bytes: Buffer
  let cid: string
  let url: string

  before(async function () {
    dir = await net.tempDir('files')
    node = await net.start('http')
    file = await randomFile(dir, 'free file.bin', 5 * MiB + 333)
    bytes = await readFile(file.path)
    cid = await addFile(node.home, file.path)
    const status = await node.status()
    expect(status.urls.http.length).to.be.greaterThan(0)
    url = `${status.urls.http[0] as string}/chiral/v1/files/${cid}`
    expect((await node.file(cid)).links.http).to.include(url)
  })
  after(async function () { await net.cleanup() })

  it('serves exactly the requested bytes for a Range (curl -r 100-199)', async function () {
    const result = await curl(['-r', '100-199', url])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.body.length).to.equal(100)
    expect(result.body.equals(bytes.subarray(100, 200))).to.equal(true)
    const head = await curlHead(['-r', '100-199', url])
    expect(head.status).to.equal(206)
    expect(head.headers['content-range']).to.equal(`bytes 100-199/${file.size}`)
    expect(head.headers['content-length']).to.equal('100')
  })

  it('serves ranges across chunk boundaries, open-ended and suffix ranges', async function () {
    const cases: Array<[string, number, number]> = [
      [`${MiB - 10}-${MiB + 9}`, MiB - 10, MiB + 10],
      [`${file.size - 50}-`, file.size - 50, file.size],
      ['-77', file.size - 77, file.size],
      ['0-0', 0, 1],
      [`${file.size - 1}-${file.size + 1000}`, file.size - 1, file.size]
    ]
    for (const [range, start, end] of cases) {
      const result = await curl(['-r', range, url])
      expect(result.code, `${range}: ${result.stderr}`).to.equal(0)
      expect(result.body.length, range).to.equal(end - start)
      expect(result.body.equals(bytes.subarray(start, end)), range).to.equal(true)
    }
  })

  it('serves the whole file to a plain GET, identical to the original', async function () {
    const result = await curl(['-f', url])
    expect(result.code, result.stderr).to.equal(0)
    expect(result.body.length).to.equal(file.size)
    expect(createHash('sha256').update(result.body).digest('hex')).to.equal(file.sha256)
    const head = await curlHead(['-I', url])
    expect(head.status).to.equal(200)
    expect(head.headers['content-length']).to.equal(String(file.size))
    expect(head.headers['accept-ranges']).to.equal('bytes')
    expect(head.headers['content-disposition']).to.include(encodeURIComponent('free file.bin'))
  })

  it('answers 416 to an unsatisfiable range', async function () {
    for (const range of [`${file.size}-`, `${file.size + 100}-${file.size + 200}`]) {
      const result = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-r', range, url])
      expect(result.stdout, range).to.equal('416')
    }
    const head = await curlHead(['-r', `${file.size}-`, url])
    expect(head.headers['content-range']).to.equal(`bytes */${file.size}`)
  })

  it('answers 404 to unknown content and 405 to other methods', async function () {
    const other = await randomFile(dir, 'not-added.bin', 1000)
    const { contentIdFromDigest } = await import('../../node/content/cid.js')
    const unknown = contentIdFromDigest(Buffer.from(other.sha256, 'hex')).text
    const missing = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url.replace(cid, unknown)])
    expect(missing.stdout).to.equal('404')
    const post = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', url])
    expect(post.stdout).to.equal('405')
  })

  it('obeys an upload limit changed at run time', async function () {
    const limited = await node.api('PATCH', '/api/settings/limits', { maxUploadRate: 2 * MiB })
    expect(limited.status, limited.text).to.equal(200)
    try {
      let started = Date.now()
      const slow = await curl(['-f', url])
      const slowMs = Date.now() - started
      expect(slow.body.length).to.equal(file.size)
      // 5 MiB at 2 MiB/s, with at most a quarter second of burst: at least ~2.3 s.
      expect(slowMs, 'limited transfer time (ms)').to.be.at.least(2000)
      await node.api('PATCH', '/api/settings/limits', { maxUploadRate: 0 })
      started = Date.now()
      const fast = await curl(['-f', url])
      expect(fast.body.length).to.equal(file.size)
      expect(Date.now() - started, 'unlimited transfer time (ms)').to.be.lessThan(slowMs / 2)
    } finally {
      await node.api('PATCH', '/api/settings/limits', { maxUploadRate: 0 })
    }
  })

  it('counts every byte sent over HTTP in bytesServed, even for parallel requests', async function () {
    const counted = await randomFile(dir, 'counted.bin', 8 * MiB)
    const countedCid = await addFile(node.home, counted.path)
    const countedUrl = url.replace(cid, countedCid)
    // 64 concurrent 128 KiB range requests, plus one whole-file curl.
    const piece = counted.size / 64
    const bodies = await Promise.all(Array.from({ length: 64 }, async (_, i) => {
      const response = await fetch(countedUrl, { headers: { Range: `bytes=${i * piece}-${(i + 1) * piece - 1}` } })
      expect(response.status).to.equal(206)
      return Buffer.from(await response.arrayBuffer())
    }))
    const whole = await curl(['-f', countedUrl])
    const received = bodies.reduce((n, body) => n + body.length, 0) + whole.body.length
    expect(received).to.equal(2 * counted.size)
    let served = 0
    await waitFor('bytesServed to settle', async () => {
      served = (await node.file(countedCid)).bytesServed
      return served === received
    }, { timeoutMs: 8000, intervalMs: 250 }).catch(() => {})
    expect(served, 'bytesServed after 64 parallel range requests and one full GET').to.equal(received)
  })

  describe('a seeded file changed on disk', function () {
    it('is no longer served (404) and is listed as changed', async function () {
      const changing = await randomFile(dir, 'changing.bin', 2 * MiB)
      const changingCid = await addFile(node.home, changing.path)
      const changingUrl = url.replace(cid, changingCid)
      // Same size, one byte different, as an editor saving in place would do.
      const handle = await open(changing.path, 'r+')
      await handle.write(Buffer.from([0x42]), 0, 1, 1234)
      await handle.close()

      const result = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', changingUrl])
      expect(result.stdout).to.equal('404')
      const ranged = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-r', '0-99', changingUrl])
      expect(ranged.stdout).to.equal('404')

      const ls = await chiral(node.home, ['ls', '--json'])
      expect(ls.code, describeResult(ls)).to.equal(0)
      const entry = (JSON.parse(ls.stdout) as { files: SeedFileView[] }).files.find(f => f.cid === changingCid)
      expect(entry?.state).to.equal('changed')
      const text = await chiral(node.home, ['ls'])
      expect(text.stdout).to.match(new RegExp(`${changingCid}\\s+changed`))

      // Resuming is refused while the bytes differ from what was added.
      const resume = await node.api('POST', `/api/files/${changingCid}/resume`)
      expect(resume.status, resume.text).to.equal(409)
      // The untouched file is still served.
      const still = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-r', '0-9', url])
      expect(still.stdout).to.equal('206')
    })

    it('is not served even right after a successful request (no stale check window)', async function () {
      const changing = await randomFile(dir, 'warm.bin', 2 * MiB)
      const changingCid = await addFile(node.home, changing.path)
      const changingUrl = url.replace(cid, changingCid)
      const warm = await curl(['-f', '-r', '0-99', changingUrl])
      expect(warm.code, warm.stderr).to.equal(0)
      // Rewrite it with other bytes of the same size right away.
      await writeFile(changing.path, Buffer.alloc(changing.size, 7))
      const after = await curl(['-r', '0-99', '-w', '\n%{http_code}', changingUrl])
      const status = after.body.toString('latin1').split('\n').pop()
      expect(status, 'status right after the change').to.equal('404')
      expect(after.body.includes(Buffer.alloc(100, 7)), 'changed bytes went out').to.equal(false)
      await sleep(10)
    })
  })
})
