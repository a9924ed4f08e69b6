import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'chai'
import { TestNetwork, chiral, describeResult, randomFile, unknownCid, type ApiResponse, type Daemon, type StatusView } from './helpers/index.js'

function expectJsonError (response: ApiResponse, status: number, code?: string | RegExp): void {
  expect(response.status, response.text).to.equal(status)
  expect(response.contentType).to.match(/application\/json/)
  const body = response.body as { error?: unknown, message?: unknown }
  expect(body, response.text).to.be.an('object')
  expect(body.error).to.be.a('string').and.not.equal('')
  expect(body.message).to.be.a('string').and.not.equal('')
  if (typeof code === 'string') expect(body.error).to.equal(code)
  else if (code != null) expect(body.error).to.match(code)
}

describe('local API', function () {
  this.timeout(60_000)
  const net = new TestNetwork()
  let node: Daemon
  let dir: string

  before(async function () {
    dir = await net.tempDir('files')
    node = await net.start('api')
  })
  after(async function () { await net.cleanup() })

  describe('authentication', function () {
    it('answers 401 JSON without a token, on every kind of route', async function () {
      for (const [method, path] of [['GET', '/api/status'], ['GET', '/api/files'], ['POST', '/api/files'], ['GET', '/api/peers'], ['PATCH', '/api/settings/limits'], ['GET', '/api/events'], ['GET', '/api/nope']]) {
        const response = await node.api(method as string, path as string, method === 'GET' ? undefined : {}, { token: null })
        expectJsonError(response, 401, 'UNAUTHORIZED')
      }
    })

    it('answers 401 JSON to a wrong token (same length, other length, other scheme)', async function () {
      const sameLength = node.token.replace(/.$/, c => c === '0' ? '1' : '0')
      for (const token of [sameLength, 'short', `${node.token}x`, '']) {
        expectJsonError(await node.api('GET', '/api/status', undefined, { token }), 401, 'UNAUTHORIZED')
      }
      expectJsonError(await node.api('GET', '/api/status', undefined, { token: null, headers: { authorization: `Basic ${node.token}` } }), 401)
      // ?token= is only for the event stream (EventSource cannot send headers).
      expectJsonError(await node.api('GET', `/api/status?token=${node.token}`, undefined, { token: null }), 401)
    })

    it('accepts the token from the data directory, and ?token= on the event stream', async function () {
      const status = await node.api<StatusView>('GET', '/api/status')
      expect(status.status).to.equal(200)
      expect(status.body.peerId).to.equal(node.peerId)
      expect(status.body.urls.api).to.equal(node.url)
      expect(status.body.urls.http[0]).to.equal(node.httpUrl)

      const controller = new AbortController()
      try {
        const events = await fetch(`${node.url}/api/events?token=${node.token}`, { signal: controller.signal })
        expect(events.status).to.equal(200)
        expect(events.headers.get('content-type')).to.match(/text\/event-stream/)
        const reader = events.body?.getReader()
        const first = await reader?.read()
        expect(Buffer.from(first?.value ?? []).toString()).to.include(': connected')
      } finally {
        controller.abort()
      }
    })

    it('serves the OpenAPI document without a token', async function () {
      const response = await node.api<{ openapi: string, paths: Record<string, unknown> }>('GET', '/api/openapi.json', undefined, { token: null })
      expect(response.status).to.equal(200)
      expect(response.body.openapi).to.match(/^3\./)
      expect(Object.keys(response.body.paths)).to.include.members(['/api/status', '/api/files', '/api/downloads'])
    })
  })

  describe('malformed requests', function () {
    it('answers 400 JSON to a malformed JSON body', async function () {
      for (const [method, path] of [['POST', '/api/files'], ['POST', '/api/downloads'], ['PATCH', '/api/settings/limits']]) {
        expectJsonError(await node.api(method as string, path as string, undefined, { rawBody: '{"path": "/tmp/x",' }), 400)
        expectJsonError(await node.api(method as string, path as string, undefined, { rawBody: 'not json at all' }), 400)
      }
    })

    it('answers 400 JSON to missing required fields', async function () {
      expectJsonError(await node.api('POST', '/api/files', {}), 400, 'INVALID_INPUT')
      expectJsonError(await node.api('POST', '/api/files', { pricePerMiB: '5' }), 400, 'INVALID_INPUT')
      expectJsonError(await node.api('POST', '/api/downloads', {}), 400, 'INVALID_INPUT')
      expectJsonError(await node.api('POST', '/api/downloads', { output: '/tmp/x' }), 400, 'INVALID_INPUT')
      expectJsonError(await node.api('PATCH', '/api/settings/limits', {}), 400, 'INVALID_INPUT')
    })

    it('answers 400 JSON to fields of the wrong JSON type (no silent coercion)', async function () {
      // A number is not a path: coerced to "42" it would name a file relative to the daemon's cwd.
      expectJsonError(await node.api('POST', '/api/files', { path: 42 }), 400, 'INVALID_INPUT')
      expectJsonError(await node.api('POST', '/api/downloads', { cid: ['x'] }), 400)
      expectJsonError(await node.api('PATCH', '/api/settings/limits', { maxUploadRate: '1024' }), 400, 'INVALID_INPUT')
      expect(await node.ok('GET', '/api/settings/limits')).to.deep.equal({ maxUploadRate: 0, maxDownloadRate: 0 })
    })

    it('answers 400 JSON to out-of-range values', async function () {
      expectJsonError(await node.api('POST', '/api/files', { path: '' }), 400)
      expectJsonError(await node.api('POST', '/api/files', { path: '/tmp/x', pricePerMiB: '-1' }), 400)
      expectJsonError(await node.api('POST', '/api/files', { path: '/tmp/x', pricePerMiB: 'free' }), 400)
      expectJsonError(await node.api('PATCH', '/api/settings/limits', { maxUploadRate: -1 }), 400)
      expectJsonError(await node.api('PATCH', '/api/settings/limits', { maxDownloadRate: 1.5 }), 400)
      expectJsonError(await node.api('POST', '/api/downloads', { cid: 'not-a-cid' }), 400, 'INVALID_CID')
    })

    it('answers 400 JSON to extra fields, without acting on the request', async function () {
      const limitsBefore = await node.ok<{ maxUploadRate: number, maxDownloadRate: number }>('GET', '/api/settings/limits')
      const patched = await node.api('PATCH', '/api/settings/limits', { maxUploadRate: limitsBefore.maxUploadRate + 4096, bogus: true })
      const limitsAfter = await node.ok<{ maxUploadRate: number, maxDownloadRate: number }>('GET', '/api/settings/limits')
      await node.api('PATCH', '/api/settings/limits', limitsBefore) // keep later tests independent
      expect(limitsAfter, 'limits unchanged by a rejected request').to.deep.equal(limitsBefore)
      expectJsonError(patched, 400)

      const file = await randomFile(dir, 'extra.bin', 1000)
      const added = await node.api('POST', '/api/files', { path: file.path, extra: 'field' })
      expectJsonError(added, 400)
      expect((await node.ok<Array<{ path: string }>>('GET', '/api/files')).some(entry => entry.path === file.path), 'file not added').to.equal(false)

      expectJsonError(await node.api('POST', '/api/downloads', { cid: unknownCid(), extra: 1 }), 400)
    })

    it('answers 404 JSON to unknown routes and methods', async function () {
      expectJsonError(await node.api('GET', '/api/nope'), 404, 'NOT_FOUND')
      // `/` is the web dashboard (test/node/web); bare /api is no route.
      expectJsonError(await node.api('GET', '/api'), 404, 'NOT_FOUND')
      expectJsonError(await node.api('PUT', '/api/status', {}), 404, 'NOT_FOUND')
      expectJsonError(await node.api('DELETE', '/api/files'), 404, 'NOT_FOUND')
    })

    it('answers 400 JSON to an invalid cid in the path', async function () {
      for (const [method, path] of [
        ['GET', '/api/files/not-a-cid'], ['POST', '/api/files/not-a-cid/stop'], ['POST', '/api/files/not-a-cid/resume'],
        ['GET', '/api/downloads/not-a-cid'], ['DELETE', '/api/downloads/not-a-cid'],
        ['GET', '/api/files/QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG']
      ]) {
        expectJsonError(await node.api(method as string, path as string), 400, 'INVALID_CID')
      }
    })

    it('answers 404 JSON to a valid cid it does not know', async function () {
      const cid = unknownCid()
      expectJsonError(await node.api('GET', `/api/files/${cid}`), 404, 'NOT_SEEDING')
      expectJsonError(await node.api('POST', `/api/files/${cid}/stop`), 404, 'NOT_SEEDING')
      expectJsonError(await node.api('GET', `/api/downloads/${cid}`), 404, 'DOWNLOAD_NOT_FOUND')
      expectJsonError(await node.api('DELETE', `/api/downloads/${cid}`), 404, 'DOWNLOAD_NOT_FOUND')
    })

    it('answers 413 JSON to a body over 64 KiB', async function () {
      const response = await node.api('POST', '/api/files', { path: `/tmp/${'a'.repeat(70 * 1024)}` })
      expectJsonError(response, 413)
      // Just under the limit is parsed (and then rejected for its content, not its size).
      const under = await node.api('POST', '/api/files', { path: `/tmp/${'a'.repeat(60 * 1024)}` })
      expect(under.status, under.text).to.be.oneOf([400, 404])
    })

    it('answers JSON errors for files it cannot seed', async function () {
      expectJsonError(await node.api('POST', '/api/files', { path: join(dir, 'missing.bin') }), 404, 'FILE_NOT_FOUND')
      const folder = join(dir, 'folder')
      await mkdir(folder, { recursive: true })
      expectJsonError(await node.api('POST', '/api/files', { path: folder }), 400, 'NOT_A_FILE')
    })
  })

  describe('CLI views of the API', function () {
    it('status --json and peers --json print what the API reports', async function () {
      const status = await chiral(node.home, ['status', '--json'])
      expect(status.code, describeResult(status)).to.equal(0)
      const parsed = JSON.parse(status.stdout) as StatusView
      expect(parsed.peerId).to.equal(node.peerId)
      expect(parsed.urls.api).to.equal(node.url)
      expect(parsed.urls.http).to.deep.equal([node.httpUrl])
      expect(parsed.addresses.length).to.be.greaterThan(0)
      expect(parsed.addresses.every(address => address.startsWith('/ip4/127.0.0.1/tcp/'))).to.equal(true)
      const text = await chiral(node.home, ['status'])
      expect(text.stdout).to.include(`peer id      ${node.peerId}`)
      const peers = await chiral(node.home, ['peers', '--json'])
      expect(peers.code, describeResult(peers)).to.equal(0)
      expect(JSON.parse(peers.stdout)).to.deep.equal([])
    })
  })

  describe('rate limits', function () {
    it('applies a PATCH at run time, visible in GET, status and the CLI', async function () {
      const initial = await node.ok<{ maxUploadRate: number, maxDownloadRate: number }>('GET', '/api/settings/limits')
      expect(initial).to.deep.equal({ maxUploadRate: 0, maxDownloadRate: 0 })

      const patched = await node.api('PATCH', '/api/settings/limits', { maxUploadRate: 1048576, maxDownloadRate: 524288 })
      expect(patched.status, patched.text).to.equal(200)
      expect(patched.body).to.deep.equal({ maxUploadRate: 1048576, maxDownloadRate: 524288 })
      expect(await node.ok('GET', '/api/settings/limits')).to.deep.equal({ maxUploadRate: 1048576, maxDownloadRate: 524288 })
      expect((await node.status()).limits).to.deep.equal({ maxUploadRate: 1048576, maxDownloadRate: 524288 })

      // Only the given field changes.
      expect((await node.api('PATCH', '/api/settings/limits', { maxDownloadRate: 0 })).body).to.deep.equal({ maxUploadRate: 1048576, maxDownloadRate: 0 })

      const cli = await chiral(node.home, ['limits', '--max-upload-rate', '3M'])
      expect(cli.code, describeResult(cli)).to.equal(0)
      expect(cli.stdout).to.include(`upload ${3 * 1048576} B/s`)
      expect(await node.ok('GET', '/api/settings/limits')).to.deep.equal({ maxUploadRate: 3 * 1048576, maxDownloadRate: 0 })
      const shown = await chiral(node.home, ['limits'])
      expect(shown.stdout).to.include(`upload ${3 * 1048576} B/s, download 0 B/s`)
      const bad = await chiral(node.home, ['limits', '--max-upload-rate', 'fast'])
      expect(bad.code, describeResult(bad)).to.not.equal(0)
      expect(await node.ok('GET', '/api/settings/limits')).to.deep.equal({ maxUploadRate: 3 * 1048576, maxDownloadRate: 0 })

      expect((await node.api('PATCH', '/api/settings/limits', { maxUploadRate: 0, maxDownloadRate: 0 })).body).to.deep.equal({ maxUploadRate: 0, maxDownloadRate: 0 })
    })
  })
})
