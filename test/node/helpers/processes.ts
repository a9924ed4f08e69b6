import { spawn, type ChildProcess } from 'node:child_process'

/**
 * Every child process a test starts is registered here, so after hooks (and, as a last resort,
 * the mocha process exiting) can kill all of them even when a test failed half way.
 */
const live = new Set<ChildProcess>()

export function track (child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => { live.delete(child) })
  return child
}

export function liveProcessCount (): number {
  return live.size
}

/** Synchronous, so it also works from process.on('exit'). */
export function killAllTracked (): void {
  for (const child of live) {
    if (child.exitCode == null && child.signalCode == null) {
      try { child.kill('SIGKILL') } catch { /* already gone */ }
    }
  }
}

process.once('exit', killAllTracked)

/** An environment for children without CHIRAL_* variables of the developer's shell. */
export function cleanEnv (extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('CHIRAL_')) env[key] = value
  }
  return { ...env, ...extra }
}

export async function waitForExit (child: ChildProcess, timeoutMs = 10_000): Promise<{ code: number | null, signal: NodeJS.Signals | null }> {
  if (child.exitCode != null || child.signalCode != null) return { code: child.exitCode, signal: child.signalCode }
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)) }, timeoutMs)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  stdoutBytes: Buffer
  timedOut: boolean
}

/** Runs a command to completion (killing it after timeoutMs) and captures its output. */
export async function run (command: string, args: string[], options: { timeoutMs?: number, env?: NodeJS.ProcessEnv, cwd?: string } = {}): Promise<RunResult> {
  const child = track(spawn(command, args, { env: options.env ?? cleanEnv(), cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] }))
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout?.on('data', (piece: Buffer) => out.push(piece))
  child.stderr?.on('data', (piece: Buffer) => err.push(piece))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    child.kill('SIGKILL')
  }, options.timeoutMs ?? 60_000)
  const { code, signal } = await new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c, s) => { resolve({ code: c, signal: s }) })
  }).finally(() => { clearTimeout(timer) })
  const stdoutBytes = Buffer.concat(out)
  return { code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes, timedOut }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls `check` until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function waitFor<T> (description: string, check: () => Promise<T | undefined | false> | T | undefined | false, options: { timeoutMs?: number, intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (err) {
      lastError = err
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${description}${lastError == null ? '' : ` (last error: ${(lastError as Error).message})`}`)
    }
    await sleep(options.intervalMs ?? 100)
  }
}
