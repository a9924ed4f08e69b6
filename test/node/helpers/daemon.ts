import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CLI_PATH } from './paths.js'
import { cleanEnv, track, waitFor, waitForExit } from './processes.js'

/** One Ethash cache directory for every test daemon, so epoch 0 is built once per machine. */
export const SHARED_ETHASH_DIR = join(tmpdir(), 'chiral-ethash-test-cache')

export interface DaemonOptions {
  /** Multiaddrs (with /p2p/<id>) to join through. */
  bootstrap?: string[]
  /** The libp2p listen address (default: any free TCP port on 127.0.0.1). */
  listen?: string
  maxUploadRate?: string
  maxDownloadRate?: string
  /** A script taking the same arguments as `chiral daemon` (default: the real CLI). */
  script?: string
  startTimeoutMs?: number
  /** Mine blocks (off by default so transfer tests keep the CPU). */
  mine?: boolean
  genesis?: string
  /** Mining rewards go here instead of the node wallet (keeps wallet balances exact in payment tests). */
  coinbase?: string
  /** CHIRAL_* settings for this daemon only. */
  env?: Record<string, string>
}

export interface ApiResponse<T = unknown> {
  status: number
  headers: Headers
  text: string
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: T
  contentType: string
}

export interface ApiRequestOptions {
  /** Overrides the bearer token; null sends no Authorization header. */
  token?: string | null
  /** Sent verbatim instead of JSON.stringify(body). */
  rawBody?: string
  headers?: Record<string, string>
}

export interface DownloadView {
  cid: string
  state: string
  bytesDone: number
  size?: number
  outputPath?: string
  error?: { code: string, message: string }
  sources: Array<{ id: string, peerId: string, transport: string, bytes: number, chunks: number, dropped?: string }>
}

export interface SeedFileView {
  cid: string
  path: string
  name: string
  size: number
  state: string
  pricePerMiB: string
  bytesServed: number
  links: { http: string[] }
}

export interface PeerView {
  peerId: string
  connected: boolean
  bytesDownloaded: number
  bytesUploaded: number
  corruptChunks: number
  failures: number
}

export interface StatusView {
  peerId: string
  addresses: string[]
  urls: { api: string, events: string, openapi: string, http: string[] }
  connectedPeers: number
  seeding: number
  activeDownloads: number
  limits: { maxUploadRate: number, maxDownloadRate: number }
  totals: { uploaded: number, downloaded: number }
}

/** One real `chiral daemon` process on 127.0.0.1 with ephemeral ports. */
export class Daemon {
  stdout = ''
  stderr = ''
  url = ''
  token = ''
  peerId = ''
  /** The libp2p multiaddrs it printed, each ending in /p2p/<peerId>. */
  p2p: string[] = []
  httpUrl = ''
  private exitInfo?: { code: number | null, signal: NodeJS.Signals | null }

  private constructor (readonly name: string, readonly home: string, readonly process: ChildProcess) {
    process.stdout?.on('data', (piece: Buffer) => { this.stdout += piece.toString('utf8') })
    process.stderr?.on('data', (piece: Buffer) => { this.stderr += piece.toString('utf8') })
    process.once('exit', (code, signal) => { this.exitInfo = { code, signal } })
  }

  static async start (name: string, home: string, options: DaemonOptions = {}): Promise<Daemon> {
    const args = [
      options.script ?? CLI_PATH, '--home', home, 'daemon',
      '--listen', options.listen ?? '/ip4/127.0.0.1/tcp/0',
      '--api-port', '0', '--http-port', '0', '--http-host', '127.0.0.1', '--rpc-port', '0',
      ...(options.mine === true ? ['--mine'] : ['--no-mine']),
      ...(options.genesis == null ? [] : ['--genesis', options.genesis]),
      ...(options.bootstrap ?? []).flatMap(address => ['--bootstrap', address]),
      ...(options.maxUploadRate == null ? [] : ['--max-upload-rate', options.maxUploadRate]),
      ...(options.maxDownloadRate == null ? [] : ['--max-download-rate', options.maxDownloadRate]),
      ...(options.coinbase == null ? [] : ['--coinbase', options.coinbase])
    ]
    const env = cleanEnv({ CHIRAL_ETHASH_DIR: SHARED_ETHASH_DIR, ...options.env })
    const child = track(spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }))
    const daemon = new Daemon(name, home, child)
    await daemon.waitUntilReady(options.startTimeoutMs ?? 30_000)
    return daemon
  }

  get pid (): number {
    return this.process.pid as number
  }

  get running (): boolean {
    return this.exitInfo == null
  }

  /** The first printed multiaddr, for others to --bootstrap through. */
  get bootstrapAddress (): string {
    const address = this.p2p[0]
    if (address == null) throw new Error(`${this.name} printed no p2p address`)
    return address
  }

  private async waitUntilReady (timeoutMs: number): Promise<void> {
    const endpointPath = join(this.home, 'api.json')
    const tokenPath = join(this.home, 'api-token')
    await waitFor(`daemon ${this.name} to write api.json`, () => {
      if (this.exitInfo != null) {
        throw new Error(`daemon ${this.name} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}) before starting:\n${this.stderr}`)
      }
      if (!existsSync(endpointPath) || !existsSync(tokenPath)) return false
      let endpoint: { url?: string, pid?: number }
      try {
        endpoint = JSON.parse(readFileSync(endpointPath, 'utf8')) as { url?: string, pid?: number }
      } catch {
        return false
      }
      // A daemon killed with -9 leaves its api.json behind: only this process's counts.
      if (endpoint.pid !== this.process.pid || endpoint.url == null) return false
      if (!/^ {2}p2p /m.test(this.stdout)) return false
      this.url = endpoint.url
      return true
    }, { timeoutMs, intervalMs: 50 }).catch(err => {
      if (this.exitInfo != null) throw new Error(`daemon ${this.name} exited before starting:\n${this.stderr}`)
      throw err
    })
    this.token = (await readFile(tokenPath, 'utf8')).trim()
    this.p2p = [...this.stdout.matchAll(/^ {2}p2p +(\S+)$/gm)].map(match => match[1] as string)
    this.peerId = /^chiral node (\S+)$/m.exec(this.stdout)?.[1] ?? ''
    this.httpUrl = /^ {2}http +(\S+)/m.exec(this.stdout)?.[1] ?? ''
  }

  async api<T = unknown> (method: string, path: string, body?: unknown, options: ApiRequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers }
    const token = options.token === undefined ? this.token : options.token
    if (token != null) headers.authorization = `Bearer ${token}`
    let payload: string | undefined
    if (options.rawBody != null) payload = options.rawBody
    else if (body !== undefined) payload = JSON.stringify(body)
    if (payload != null && headers['content-type'] == null) headers['content-type'] = 'application/json'
    const response = await fetch(`${this.url}${path}`, { method, headers, body: payload })
    const text = await response.text()
    let parsed: unknown
    try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
    return { status: response.status, headers: response.headers, text, body: parsed as T, contentType: response.headers.get('content-type') ?? '' }
  }

  /** Like api() but fails unless the status is 2xx. */
  async ok<T = unknown> (method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.api<T>(method, path, body)
    if (response.status < 200 || response.status > 299) {
      throw new Error(`${this.name}: ${method} ${path} answered ${response.status}: ${response.text}`)
    }
    return response.body
  }

  async status (): Promise<StatusView> {
    return await this.ok<StatusView>('GET', '/api/status')
  }

  async files (): Promise<SeedFileView[]> {
    return await this.ok<SeedFileView[]>('GET', '/api/files')
  }

  async file (cid: string): Promise<SeedFileView> {
    const entry = (await this.files()).find(file => file.cid === cid)
    if (entry == null) throw new Error(`${this.name} does not list ${cid}`)
    return entry
  }

  async peers (): Promise<PeerView[]> {
    return await this.ok<PeerView[]>('GET', '/api/peers')
  }

  async download (cid: string): Promise<DownloadView> {
    return await this.ok<DownloadView>('GET', `/api/downloads/${cid}`)
  }

  /** Waits until this node has at least `count` connected peers. */
  async waitForPeers (count: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(`${this.name} to connect to ${count} peer(s)`, async () => (await this.status()).connectedPeers >= count, { timeoutMs, intervalMs: 100 })
  }

  /** kill -9: no shutdown code runs. */
  async kill9 (): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGKILL')
    await waitForExit(this.process, 10_000)
  }

  /** SIGTERM, then SIGKILL if it does not stop within timeoutMs. */
  async stop (timeoutMs = 5_000): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGTERM')
    try {
      await waitForExit(this.process, timeoutMs)
    } catch {
      await this.kill9()
    }
  }

  /** The tail of its log file, for failure messages. */
  logTail (lines = 30): string {
    try {
      return readFileSync(join(this.home, 'logs', 'chiral.log'), 'utf8').trim().split('\n').slice(-lines).join('\n')
    } catch {
      return '(no log)'
    }
  }
}
