import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CLI, run, sleep, terminate, track, type RunResult } from './proc.js'

export interface DaemonOptions {
  name: string
  home: string
  bootstrap?: string
  /** Extra environment, e.g. CHIRAL_DOWNLOAD_TRANSPORTS. */
  env?: Record<string, string>
  /** Extra daemon flags, e.g. ['--max-upload-rate', '25M']. */
  args?: string[]
  /** Flags for node itself, e.g. ['--cpu-prof']. */
  nodeArgs?: string[]
}

export interface DownloadSource { id: string, peerId: string, transport: 'native' | 'http', bytes: number, chunks: number, dropped?: string }

export interface DownloadProgress {
  cid: string
  state: 'discovering' | 'downloading' | 'verifying' | 'completed' | 'failed' | 'cancelled'
  bytesDone: number
  size?: number
  error?: { code: string, message: string }
  seeders?: number
  sources: DownloadSource[]
}

/** The bench's environment without CHIRAL_* settings, so only what a scenario sets applies. */
function daemonEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CHIRAL_')))
}

/** One real `chiral daemon` process on loopback, with its API. */
export class Daemon {
  p2p = ''
  apiUrl = ''
  httpUrl = ''
  token = ''
  private stdout = ''
  private stderr = ''

  private constructor (readonly options: DaemonOptions, readonly child: ChildProcess) {}

  get pid (): number {
    return this.child.pid as number
  }

  get name (): string {
    return this.options.name
  }

  get home (): string {
    return this.options.home
  }

  static async start (options: DaemonOptions): Promise<Daemon> {
    mkdirSync(options.home, { recursive: true })
    const args = [
      ...(options.nodeArgs ?? []), CLI, '--home', options.home, 'daemon',
      '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0', '--http-port', '0', '--http-host', '127.0.0.1', '--rpc-port', '0', '--no-mine',
      '--log-level', 'warn',
      ...(options.bootstrap == null ? [] : ['--bootstrap', options.bootstrap]),
      ...(options.args ?? [])
    ]
    const child = track(spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...daemonEnv(), ...(options.env ?? {}) }
    }))
    const daemon = new Daemon(options, child)
    child.stdout?.setEncoding('utf8').on('data', (text: string) => { daemon.stdout += text })
    child.stderr?.setEncoding('utf8').on('data', (text: string) => { daemon.stderr += text })
    const deadline = Date.now() + 60_000
    for (;;) {
      const p2p = /^\s+p2p\s+(\S+)/m.exec(daemon.stdout)
      const http = /^\s+http\s+(\S+)/m.exec(daemon.stdout)
      if (p2p != null && http != null) {
        daemon.p2p = p2p[1] as string
        daemon.httpUrl = http[1] as string
        break
      }
      if (child.exitCode != null || child.signalCode != null) {
        throw new Error(`daemon ${options.name} exited during start-up: ${daemon.stderr.trim().slice(-2000)}`)
      }
      if (Date.now() > deadline) throw new Error(`daemon ${options.name} did not start within 60 s: ${daemon.stderr.trim().slice(-2000)}`)
      await sleep(20)
    }
    daemon.apiUrl = (JSON.parse(readFileSync(join(options.home, 'api.json'), 'utf8')) as { url: string }).url
    daemon.token = readFileSync(join(options.home, 'api-token'), 'utf8').trim()
    return daemon
  }

  async api<T> (method: string, path: string, body?: unknown): Promise<{ status: number, body: T }> {
    const response = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await response.text()
    const parsed = (text === '' ? undefined : JSON.parse(text)) as T
    if (!response.ok) throw new Error(`${this.name}: ${method} ${path} answered ${response.status}: ${text.slice(0, 500)}`)
    return { status: response.status, body: parsed }
  }

  /** `chiral --home <home> <args>`: the real CLI against this running daemon. */
  async cli (args: string[]): Promise<RunResult> {
    return await run(process.execPath, [CLI, '--home', this.home, ...args])
  }

  async waitForPeers (minimum: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const { body } = await this.api<{ connectedPeers: number }>('GET', '/api/status')
      if (body.connectedPeers >= minimum) return body.connectedPeers
      if (Date.now() > deadline) throw new Error(`${this.name}: only ${body.connectedPeers} peer(s) after ${timeoutMs} ms, wanted ${minimum}`)
      await sleep(100)
    }
  }

  async stop (): Promise<void> {
    await terminate(this.child)
  }

  logs (): string {
    return `--- ${this.name} stderr ---\n${this.stderr.slice(-3000)}`
  }
}
