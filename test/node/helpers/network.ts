import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Daemon, type DaemonOptions } from './daemon.js'
import { REPO_ROOT } from './paths.js'
import { killAllTracked, run } from './processes.js'

/**
 * Owns everything one describe block creates: daemons, temp directories and mounts.
 * `cleanup()` (call it from `after`) kills every daemon with SIGKILL, unmounts and deletes.
 */
export class TestNetwork {
  readonly daemons: Daemon[] = []
  private readonly dirs: string[] = []
  private readonly mounts: string[] = []
  private root?: string

  async tempDir (name: string): Promise<string> {
    if (this.root == null) {
      this.root = await mkdtemp(join(tmpdir(), 'chiral-test-'))
      this.dirs.push(this.root)
    }
    const dir = join(this.root, name)
    await mkdir(dir, { recursive: true })
    return dir
  }

  /** Starts a daemon whose home is a fresh directory (or `home`, to restart one). */
  async start (name: string, options: DaemonOptions & { home?: string } = {}): Promise<Daemon> {
    const home = options.home ?? await this.tempDir(`home-${name}`)
    const daemon = await Daemon.start(name, home, options)
    this.daemons.push(daemon)
    return daemon
  }

  /** Starts `first`, then the others bootstrapped through it, and waits until all are connected. */
  async startConnected (names: string[], options: Record<string, DaemonOptions> = {}): Promise<Daemon[]> {
    const [firstName, ...rest] = names
    if (firstName == null) return []
    const first = await this.start(firstName, options[firstName])
    const others = await Promise.all(rest.map(async name => await this.start(name, { ...options[name], bootstrap: [first.bootstrapAddress] })))
    await Promise.all(others.map(async daemon => { await daemon.waitForPeers(1) }))
    if (others.length > 0) await first.waitForPeers(others.length)
    return [first, ...others]
  }

  /**
   * Copies every daemon's log (and what it printed) to test-results/logs/<label>/, so a failed
   * run can be explained after the temp directories are gone; returns that directory.
   */
  async keepLogs (label: string): Promise<string> {
    const dir = join(REPO_ROOT, 'test-results', 'logs', label.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 100))
    await mkdir(dir, { recursive: true })
    for (const [index, daemon] of this.daemons.entries()) {
      const name = `${String(index).padStart(2, '0')}-${daemon.name}`
      await copyFile(join(daemon.home, 'logs', 'chiral.log'), join(dir, `${name}.log`)).catch(() => {})
      await writeFile(join(dir, `${name}.stderr`), daemon.stderr)
    }
    return dir
  }

  registerMount (dir: string): void {
    this.mounts.push(dir)
  }

  async cleanup (): Promise<void> {
    await Promise.all(this.daemons.map(async daemon => { await daemon.kill9().catch(() => {}) }))
    // CLI processes a failed test left running (e.g. a background `get`).
    killAllTracked()
    for (const dir of this.mounts.reverse()) {
      const result = await run('umount', [dir], { timeoutMs: 10_000 }).catch(() => undefined)
      if (result?.code !== 0) await run('umount', ['-l', dir], { timeoutMs: 10_000 }).catch(() => undefined)
    }
    for (const dir of this.dirs) await rm(dir, { recursive: true, force: true }).catch(() => {})
  }
}
