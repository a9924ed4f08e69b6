import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { API_ENDPOINT_FILENAME, API_TOKEN_FILENAME } from '../config/constants.js'
import { ChiralError, DaemonNotRunningError } from '../util/errors.js'

/** Talks to a running daemon through its local API, found via the data directory. */
export class ApiClient {
  readonly baseUrl: string
  readonly token: string

  constructor (readonly home: string) {
    const endpointPath = join(home, API_ENDPOINT_FILENAME)
    const tokenPath = join(home, API_TOKEN_FILENAME)
    if (!existsSync(endpointPath) || !existsSync(tokenPath)) throw new DaemonNotRunningError(home, 'no running daemon recorded in the data directory')
    this.baseUrl = (JSON.parse(readFileSync(endpointPath, 'utf8')) as { url: string }).url
    this.token = readFileSync(tokenPath, 'utf8').trim()
  }

  async request<T> (method: string, path: string, body?: unknown): Promise<T> {
    let response: Response
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
    } catch (err) {
      throw new DaemonNotRunningError(this.home, `cannot reach ${this.baseUrl}: ${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}`)
    }
    const text = await response.text()
    const parsed = text === '' ? undefined : JSON.parse(text) as unknown
    if (!response.ok) {
      const error = parsed as { error?: string, message?: string } | undefined
      throw new ChiralError(error?.error ?? 'API_ERROR', error?.message ?? `HTTP ${response.status}`, response.status)
    }
    return parsed as T
  }

  /** Yields Server-Sent Events until the signal aborts. */
  async * events (signal: AbortSignal): AsyncGenerator<{ type: string, data: unknown }> {
    const response = await fetch(`${this.baseUrl}/api/events`, { headers: { authorization: `Bearer ${this.token}` }, signal })
    if (!response.ok || response.body == null) throw new ChiralError('API_ERROR', `event stream answered HTTP ${response.status}`)
    const decoder = new TextDecoder()
    let pending = ''
    try {
      for await (const piece of response.body) {
        pending += decoder.decode(piece, { stream: true })
        let boundary
        while ((boundary = pending.indexOf('\n\n')) >= 0) {
          const block = pending.slice(0, boundary)
          pending = pending.slice(boundary + 2)
          const type = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (type != null && data != null) yield { type, data: JSON.parse(data) }
        }
      }
    } catch (err) {
      if (!signal.aborted) throw err
    }
  }
}
