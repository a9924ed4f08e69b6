import { connect, type Socket } from 'node:net'
import { SourceError } from '../../transfer/source.js'

/** Largest response head (status line and headers) accepted; ours are a few hundred bytes. */
const MAX_HEAD_BYTES = 16 * 1024
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1')

export interface ResponseHead {
  status: number
  contentLength: number
}

/**
 * Picks where a response body goes once its head is known: returns a buffer of exactly
 * `contentLength` bytes, or throws to refuse the response (the connection is then dropped).
 */
export type BodyTarget = (head: ResponseHead) => Uint8Array

interface Exchange {
  target: BodyTarget
  resolve: (result: { head: ResponseHead, body: Uint8Array }) => void
  reject: (err: Error) => void
  head?: ResponseHead
  body?: Uint8Array
  filled: number
  /** Whether any byte of the response arrived: a reused connection that closes before one did can be retried. */
  answered: boolean
}

/**
 * One keep-alive HTTP/1.1 client connection that reads a response body straight into the
 * caller's buffer. node:http reads every 64 KiB into a fresh buffer that lives until the next
 * garbage collection, then the body is copied once more; here the socket reads land where the
 * bytes belong, so a 1 MiB chunk costs no intermediate buffer, no copy and no garbage, and the
 * download's memory stays at the chunks in flight. One request at a time; bodies must be sized
 * by Content-Length (the node's HTTP server always sends it; anything else is refused).
 */
export class HttpConnection {
  /** Completed requests; a connection that served one before may have been closed by the server meanwhile. */
  requests = 0
  private readonly socket: Socket
  private readonly connected: Promise<void>
  private readonly head = Buffer.allocUnsafe(MAX_HEAD_BYTES)
  private headLength = 0
  private exchange?: Exchange
  private keepAlive = true
  private closed = false

  constructor (readonly host: string, readonly port: number) {
    this.socket = connect({
      host,
      port,
      noDelay: true,
      onread: { buffer: () => this.readTarget(), callback: (bytes: number) => this.onBytes(bytes) }
    })
    this.connected = new Promise<void>((resolve, reject) => {
      this.socket.once('connect', resolve)
      this.socket.once('close', () => { reject(new SourceError(`${host}:${port}: connection closed before it was established`)) })
    })
    this.connected.catch(() => {})
    this.socket.on('error', err => { this.fail(new SourceError(`${host}:${port}: ${err.message}`)) })
    this.socket.on('close', () => { this.fail(new SourceError(`${host}:${port} closed the connection`)) })
  }

  /** Whether the connection can take another request. */
  get reusable (): boolean {
    return !this.closed && this.keepAlive && this.exchange == null
  }

  /** Sends a GET and resolves with the head and the body, which `target` chose the buffer for. */
  async get (path: string, headers: Record<string, string>, target: BodyTarget, signal: AbortSignal): Promise<{ head: ResponseHead, body: Uint8Array }> {
    if (this.exchange != null) throw new Error('HttpConnection carries one request at a time')
    signal.throwIfAborted()
    const onAbort = (): void => { this.close(signal.reason instanceof Error ? signal.reason : new Error('request aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await this.connected
      if (this.closed) throw new SourceError(`${this.host}:${this.port} closed the connection`)
      return await new Promise((resolve, reject) => {
        this.exchange = { target, resolve, reject, filled: 0, answered: false }
        const lines = [`GET ${path} HTTP/1.1`, `Host: ${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`]
        for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
        this.socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1')
      })
    } catch (err) {
      throw err instanceof SourceError || signal.aborted ? err : new SourceError(`${this.host}:${this.port}: ${(err as Error).message}`)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Whether the last failure happened on a reused connection before any response byte: safe to retry elsewhere. */
  static retryable (err: unknown): boolean {
    return err instanceof StaleConnectionError
  }

  close (reason: Error = new SourceError('connection closed')): void {
    this.fail(reason)
    this.socket.destroy()
  }

  /** Where the next socket read lands: the rest of the body being received, else the head buffer. */
  private readTarget (): Uint8Array {
    const exchange = this.exchange
    if (exchange?.body != null) return exchange.body.subarray(exchange.filled)
    return this.head.subarray(this.headLength)
  }

  /** Always true: reads never need pausing, since each lands in a buffer sized for it. */
  private onBytes (bytes: number): true {
    const exchange = this.exchange
    if (exchange == null) {
      this.close(new SourceError(`${this.host}:${this.port} sent bytes nobody asked for`))
      return true
    }
    exchange.answered = true
    if (exchange.body != null) {
      exchange.filled += bytes
    } else {
      this.headLength += bytes
      if (!this.parseHead(exchange)) return true
    }
    if (exchange.body != null && exchange.filled === exchange.body.length) this.complete(exchange)
    return true
  }

  /** Parses the head once it is complete and moves any body bytes that came with it; false if it failed or needs more bytes. */
  private parseHead (exchange: Exchange): boolean {
    const end = this.head.subarray(0, this.headLength).indexOf(HEAD_END)
    if (end < 0) {
      if (this.headLength === MAX_HEAD_BYTES) this.close(new SourceError(`${this.host}:${this.port} sent a response head over ${MAX_HEAD_BYTES} bytes`, true))
      return false
    }
    let head: ResponseHead
    let body: Uint8Array
    try {
      head = this.readHead(this.head.toString('latin1', 0, end))
      body = exchange.target(head)
      if (body.length !== head.contentLength) throw new Error(`body buffer of ${body.length} bytes for ${head.contentLength}`)
    } catch (err) {
      this.close(err instanceof SourceError ? err : new SourceError(`${this.host}:${this.port}: ${(err as Error).message}`, true))
      return false
    }
    const extra = this.head.subarray(end + HEAD_END.length, this.headLength)
    if (extra.length > body.length) {
      this.close(new SourceError(`${this.host}:${this.port} sent more than the ${body.length} bytes it announced`, true))
      return false
    }
    body.set(extra)
    exchange.head = head
    exchange.body = body
    exchange.filled = extra.length
    this.headLength = 0
    return true
  }

  private readHead (text: string): ResponseHead {
    const [statusLine = '', ...fields] = text.split('\r\n')
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(statusLine)
    if (status == null) throw new SourceError(`${this.host}:${this.port} answered with a malformed status line`, true)
    const headers = new Map<string, string>()
    for (const field of fields) {
      const colon = field.indexOf(':')
      if (colon <= 0) throw new SourceError(`${this.host}:${this.port} sent a malformed header`, true)
      const name = field.slice(0, colon).trim().toLowerCase()
      const value = field.slice(colon + 1).trim()
      headers.set(name, headers.has(name) ? `${headers.get(name) as string}, ${value}` : value)
    }
    const encoding = headers.get('transfer-encoding')
    if (encoding != null && encoding.toLowerCase() !== 'identity') throw new SourceError(`${this.host}:${this.port} sent a ${encoding} body; only Content-Length bodies are read`, true)
    const length = headers.get('content-length') ?? ''
    if (!/^\d{1,15}$/.test(length)) throw new SourceError(`${this.host}:${this.port} sent no valid Content-Length`, true)
    const connection = headers.get('connection')?.toLowerCase() ?? ''
    this.keepAlive = status[1] === '1' ? !connection.includes('close') : connection.includes('keep-alive')
    return { status: Number(status[2]), contentLength: Number(length) }
  }

  private complete (exchange: Exchange): void {
    this.exchange = undefined
    this.requests++
    if (!this.keepAlive) this.socket.destroy()
    exchange.resolve({ head: exchange.head as ResponseHead, body: exchange.body as Uint8Array })
  }

  private fail (err: Error): void {
    this.closed = true
    this.headLength = 0
    const exchange = this.exchange
    if (exchange == null) return
    this.exchange = undefined
    // Destroyed before the caller's buffer is handed back, so no later read can land in it.
    this.socket.destroy()
    exchange.reject(!exchange.answered && this.requests > 0 && err instanceof SourceError ? new StaleConnectionError(err.message) : err)
  }
}

/** A kept-alive connection the server had closed before it could answer: the request never reached it. */
class StaleConnectionError extends SourceError {}
