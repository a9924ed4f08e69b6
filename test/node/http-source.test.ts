import { expect } from 'chai'
import { randomBytes } from 'node:crypto'
import { createServer, type Server, type Socket } from 'node:net'
import { HttpSource } from '../../node/protocols/http/source.js'
import { SourceError } from '../../node/transfer/source.js'

const CID = 'bafkreitest'
const body = randomBytes(256 * 1024)

/** A raw TCP server that answers each request with what `respond` writes, however it splits it. */
async function rawServer (respond: (socket: Socket, request: string, count: number) => void): Promise<{ server: Server, endpoint: string, connections: () => number }> {
  let connections = 0
  let requests = 0
  const server = createServer(socket => {
    connections++
    let pending = ''
    socket.on('data', data => {
      pending += data.toString('latin1')
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        const request = pending.slice(0, end)
        pending = pending.slice(end + 4)
        respond(socket, request, ++requests)
      }
    })
    socket.on('error', () => {})
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { server, endpoint: `http://127.0.0.1:${port}`, connections: () => connections }
}

function rangeOf (request: string): { start: number, end: number } {
  const match = /^Range: bytes=(\d+)-(\d+)$/mi.exec(request)
  if (match == null) throw new Error(`no range in ${request}`)
  return { start: Number(match[1]), end: Number(match[2]) }
}

/** Writes `bytes` in pieces of the given sizes (cycling), one per timer tick, so the client sees every split. */
function writeInPieces (socket: Socket, bytes: Buffer, sizes: number[]): void {
  let offset = 0
  let turn = 0
  const next = (): void => {
    if (offset >= bytes.length || socket.destroyed) return
    const size = sizes[turn++ % sizes.length] as number
    socket.write(bytes.subarray(offset, offset + size))
    offset += size
    setTimeout(next, 1)
  }
  next()
}

function partial (request: string, extraHeaders = ''): Buffer {
  const { start, end } = rangeOf(request)
  const head = `HTTP/1.1 206 Partial Content\r\nContent-Length: ${end - start + 1}\r\nContent-Range: bytes ${start}-${end}/${body.length}\r\n${extraHeaders}\r\n`
  return Buffer.concat([Buffer.from(head, 'latin1'), body.subarray(start, end + 1)])
}

describe('HTTP source (raw servers, no daemons)', function () {
  this.timeout(20_000)
  const servers: Server[] = []
  afterEach(async function () {
    await Promise.all(servers.splice(0).map(async server => { await new Promise(resolve => server.close(resolve)) }))
  })
  const serve = async (respond: Parameters<typeof rawServer>[0]): Promise<Awaited<ReturnType<typeof rawServer>>> => {
    const started = await rawServer(respond)
    servers.push(started.server)
    return started
  }

  it('reads a body split anywhere, head included, straight into the given buffer', async function () {
    // One byte at a time through the head, the head with part of the body, odd sizes, all at once.
    for (const sizes of [[...Array(200).fill(1), 1 << 20], [300, 1 << 20], [7, 100, 4096, 999], [1 << 20]]) {
      const { endpoint } = await serve((socket, request) => { writeInPieces(socket, partial(request), sizes) })
      const source = new HttpSource('peer', endpoint, CID)
      const into = Buffer.alloc(64 * 1024)
      const chunk = await source.fetchChunk(1, 64 * 1024, 64 * 1024, AbortSignal.timeout(10_000), into)
      expect(chunk, `pieces of ${sizes.slice(0, 3).join(', ')}`).to.equal(into)
      expect(Buffer.from(chunk).equals(body.subarray(64 * 1024, 128 * 1024)), `pieces of ${sizes.slice(0, 3).join(', ')}`).to.equal(true)
      source.close()
    }
  })

  it('keeps one connection alive, and retries on a fresh one when the server drops a kept-alive one unanswered', async function () {
    const { endpoint, connections } = await serve((socket, request, count) => {
      // The third request meets a connection the server gives up on, as after an idle timeout.
      if (count === 3) socket.destroy()
      else socket.write(partial(request))
    })
    const source = new HttpSource('peer', endpoint, CID)
    for (let index = 0; index < 4; index++) {
      const chunk = await source.fetchChunk(index, index * 1024, 1024, AbortSignal.timeout(10_000))
      expect(Buffer.from(chunk).equals(body.subarray(index * 1024, (index + 1) * 1024))).to.equal(true)
    }
    expect(connections()).to.equal(2)
    source.close()
  })

  it('refuses chunked bodies, bodies of the wrong length and extra bytes; 404 drops the source', async function () {
    const cases: Array<{ answer: (request: string) => Buffer, fatal: boolean, pattern: RegExp }> = [
      { answer: () => Buffer.from('HTTP/1.1 206 Partial Content\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n', 'latin1'), fatal: true, pattern: /chunked/ },
      { answer: () => Buffer.from('HTTP/1.1 206 Partial Content\r\nContent-Length: 10\r\n\r\n0123456789', 'latin1'), fatal: true, pattern: /10 bytes, expected 1024/ },
      { answer: request => Buffer.concat([partial(request), Buffer.from('surplus')]), fatal: false, pattern: /nobody asked for|more than/ },
      { answer: () => Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1'), fatal: true, pattern: /HTTP 404/ },
      { answer: () => Buffer.from('HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n', 'latin1'), fatal: false, pattern: /HTTP 503/ }
    ]
    for (const { answer, fatal, pattern } of cases) {
      const { endpoint } = await serve((socket, request) => { socket.write(answer(request)) })
      const source = new HttpSource('peer', endpoint, CID)
      let error: unknown
      try {
        // The surplus case may only fail on the next request, when the stray bytes arrive first.
        await source.fetchChunk(0, 0, 1024, AbortSignal.timeout(10_000))
        await new Promise(resolve => setTimeout(resolve, 20))
        await source.fetchChunk(1, 1024, 1024, AbortSignal.timeout(10_000))
      } catch (err) {
        error = err
      }
      expect(error, pattern.source).to.be.instanceOf(SourceError)
      expect((error as SourceError).message).to.match(pattern)
      if (fatal) expect((error as SourceError).fatal, pattern.source).to.equal(true)
      source.close()
    }
  })

  it('gives up on a body cut short, and stops at once when aborted', async function () {
    const { endpoint } = await serve((socket, request) => {
      const answer = partial(request)
      if (rangeOf(request).start === 0) socket.end(answer.subarray(0, answer.length - 100))
      else socket.write(answer.subarray(0, answer.length - 100))
    })
    const source = new HttpSource('peer', endpoint, CID)
    const cut = await source.fetchChunk(0, 0, 1024, AbortSignal.timeout(10_000)).then(() => undefined, (err: unknown) => err)
    expect(cut).to.be.instanceOf(SourceError)
    const controller = new AbortController()
    setTimeout(() => { controller.abort(new Error('called off')) }, 100)
    const started = performance.now()
    const aborted = await source.fetchChunk(1, 1024, 1024, controller.signal).then(() => undefined, (err: unknown) => err)
    expect((aborted as Error).message).to.equal('called off')
    expect(performance.now() - started).to.be.lessThan(2000)
    source.close()
  })
})
