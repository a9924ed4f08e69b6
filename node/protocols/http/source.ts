import { Agent, request, type IncomingMessage } from 'node:http'
import { SourceError, type ChunkSource } from '../../transfer/source.js'
import { fileUrl } from './paths.js'

/** Keep-alive connections shared by all HTTP sources: one TCP handshake per seeder, not per chunk. */
const agent = new Agent({ keepAlive: true, maxSockets: 16 })

/** Fetches from a seeder's HTTP endpoint with Range requests. */
export class HttpSource implements ChunkSource {
  readonly transport = 'http' as const
  readonly id: string
  private readonly url: URL

  constructor (readonly peerId: string, endpoint: string, cid: string) {
    this.id = `${peerId}/http`
    this.url = new URL(fileUrl(endpoint, cid))
  }

  async fetchManifest (maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    return await this.get(new URL(`${this.url.pathname}/manifest`, this.url), undefined, maxBytes, signal)
  }

  async fetchChunk (index: number, offset: number, length: number, signal: AbortSignal): Promise<Uint8Array> {
    const body = await this.get(this.url, `bytes=${offset}-${offset + length - 1}`, length, signal)
    if (body.length !== length) throw new SourceError(`chunk ${index} has ${body.length} bytes, expected ${length}`, true)
    return body
  }

  private async get (url: URL, range: string | undefined, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(url, { agent, signal, headers: range == null ? {} : { Range: range } }, resolve)
      req.on('error', err => { reject(new SourceError(`${url.href}: ${err.message}`)) })
      req.end()
    })
    const status = response.statusCode ?? 0
    if (status < 200 || status >= 300 || (range != null && status !== 206)) {
      response.resume()
      throw new SourceError(`${url.href} answered HTTP ${status}`, status === 404)
    }
    const declared = Number(response.headers['content-length'] ?? Number.NaN)
    if (declared > maxBytes) {
      response.destroy()
      throw new SourceError(`${url.href} announced ${declared} bytes, limit ${maxBytes}`, true)
    }
    const body = Buffer.allocUnsafe(Number.isFinite(declared) ? declared : maxBytes)
    let filled = 0
    try {
      for await (const piece of response as AsyncIterable<Buffer>) {
        if (filled + piece.length > body.length) throw new SourceError(`${url.href} sent more than ${body.length} bytes`, true)
        piece.copy(body, filled)
        filled += piece.length
      }
    } catch (err) {
      response.destroy()
      throw err instanceof SourceError ? err : new SourceError(`${url.href}: ${(err as Error).message}`)
    }
    return body.subarray(0, filled)
  }
}
