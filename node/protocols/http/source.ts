import { SourceError, type ChunkSource } from '../../transfer/source.js'
import { fileUrl } from './paths.js'

/** Fetches from a seeder's HTTP endpoint with Range requests. */
export class HttpSource implements ChunkSource {
  readonly transport = 'http' as const
  readonly id: string
  private readonly url: string

  constructor (readonly peerId: string, endpoint: string, cid: string) {
    this.id = `${peerId}/http`
    this.url = fileUrl(endpoint, cid)
  }

  async fetchManifest (maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    return await this.get(`${this.url}/manifest`, undefined, maxBytes, signal)
  }

  async fetchChunk (index: number, offset: number, length: number, signal: AbortSignal): Promise<Uint8Array> {
    const body = await this.get(this.url, `bytes=${offset}-${offset + length - 1}`, length, signal)
    if (body.length !== length) throw new SourceError(`chunk ${index} has ${body.length} bytes, expected ${length}`, true)
    return body
  }

  private async get (url: string, range: string | undefined, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    const response = await fetch(url, { signal, headers: range == null ? {} : { Range: range } }).catch((err: Error) => {
      throw new SourceError(`${url}: ${err.message}`)
    })
    if (!response.ok || (range != null && response.status !== 206)) {
      await response.body?.cancel()
      throw new SourceError(`${url} answered HTTP ${response.status}`, response.status === 404)
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN)
    if (declared > maxBytes) {
      await response.body?.cancel()
      throw new SourceError(`${url} announced ${declared} bytes, limit ${maxBytes}`, true)
    }
    const body = Buffer.allocUnsafe(Number.isFinite(declared) ? declared : maxBytes)
    let filled = 0
    for await (const piece of response.body ?? []) {
      if (filled + piece.length > body.length) throw new SourceError(`${url} sent more than ${body.length} bytes`, true)
      body.set(piece, filled)
      filled += piece.length
    }
    return body.subarray(0, filled)
  }
}
