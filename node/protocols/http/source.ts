import { SourceError, type ChunkSource } from '../../transfer/source.js'
import { HttpConnection, type BodyTarget, type ResponseHead } from './connection.js'
import { fileUrl } from './paths.js'

/** Idle keep-alive connections kept per seeder: one TCP handshake per pipeline slot, not per chunk. */
const MAX_IDLE_CONNECTIONS = 16

/** Fetches from a seeder's HTTP endpoint with Range requests, each body read straight into the chunk's buffer. */
export class HttpSource implements ChunkSource {
  readonly transport = 'http' as const
  readonly id: string
  private readonly url: URL
  private readonly host: string
  private readonly port: number
  private readonly idle: HttpConnection[] = []

  /** `credential` gives the bearer token a paid seeder issued to this node, if any. */
  constructor (readonly peerId: string, endpoint: string, cid: string, private readonly credential: () => string | undefined = () => undefined) {
    this.id = `${peerId}/http`
    this.url = new URL(fileUrl(endpoint, cid))
    this.host = this.url.hostname.replace(/^\[(.*)\]$/, '$1')
    this.port = this.url.port === '' ? 80 : Number(this.url.port)
  }

  async fetchManifest (maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    const { body } = await this.get(`${this.url.pathname}/manifest`, {}, head => {
      if (head.status < 200 || head.status >= 300) throw this.statusError(head)
      if (head.contentLength > maxBytes) throw new SourceError(`${this.url.href} announced ${head.contentLength} bytes, limit ${maxBytes}`, true)
      return Buffer.allocUnsafe(head.contentLength)
    }, signal)
    return body
  }

  async fetchChunk (index: number, offset: number, length: number, signal: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    const { body } = await this.get(this.url.pathname, { Range: `bytes=${offset}-${offset + length - 1}` }, head => {
      if (head.status !== 206) throw this.statusError(head)
      if (head.contentLength !== length) throw new SourceError(`chunk ${index} has ${head.contentLength} bytes, expected ${length}`, true)
      return into?.length === length ? into : Buffer.allocUnsafe(length)
    }, signal)
    return body
  }

  close (): void {
    for (const connection of this.idle.splice(0)) connection.close()
  }

  private async get (path: string, headers: Record<string, string>, target: BodyTarget, signal: AbortSignal): Promise<{ head: ResponseHead, body: Uint8Array }> {
    if (this.url.protocol !== 'http:') throw new SourceError(`${this.url.href}: only http:// endpoints are supported`, true)
    const token = this.credential()
    const withToken = token == null ? headers : { ...headers, Authorization: `Bearer ${token}` }
    for (;;) {
      const reused = this.takeIdle()
      const connection = reused ?? new HttpConnection(this.host, this.port)
      try {
        const response = await connection.get(path, withToken, target, signal)
        if (connection.reusable && this.idle.length < MAX_IDLE_CONNECTIONS) this.idle.push(connection)
        else connection.close()
        return response
      } catch (err) {
        connection.close()
        // A kept-alive connection the seeder had already closed: the request never reached it.
        if (reused != null && HttpConnection.retryable(err) && !signal.aborted) continue
        throw err
      }
    }
  }

  private takeIdle (): HttpConnection | undefined {
    for (let connection = this.idle.pop(); connection != null; connection = this.idle.pop()) {
      if (connection.reusable) return connection
      connection.close()
    }
    return undefined
  }

  private statusError (head: ResponseHead): SourceError {
    return new SourceError(`${this.url.href} answered HTTP ${head.status}${head.status === 402 ? ' (payment required)' : ''}`, head.status === 404)
  }
}
