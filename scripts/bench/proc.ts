import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'

/** The CLI the bench drives: dist/scripts/bench/proc.js -> dist/node/cli/main.js. */
export const CLI = fileURLToPath(new URL('../../node/cli/main.js', import.meta.url))

const children = new Set<ChildProcess>()

/** Every process the bench started and that still runs, so cleanup can end exactly those. */
export function track (child: ChildProcess): ChildProcess {
  children.add(child)
  child.once('exit', () => { children.delete(child) })
  return child
}

function exited (child: ChildProcess): boolean {
  return child.exitCode != null || child.signalCode != null
}

export async function waitExit (child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return true
  return await new Promise<boolean>(resolve => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false) }, timeoutMs)
    const onExit = (): void => { clearTimeout(timer); resolve(true) }
    child.once('exit', onExit)
  })
}

/** SIGTERM (the daemon's graceful stop), then SIGKILL if it lingers. Only processes we started. */
export async function terminate (child: ChildProcess, graceMs = 8000): Promise<void> {
  if (exited(child)) return
  child.kill('SIGTERM')
  if (!await waitExit(child, graceMs)) {
    child.kill('SIGKILL')
    await waitExit(child, 2000)
  }
}

export async function killAll (): Promise<void> {
  await Promise.all([...children].map(async child => { await terminate(child, 5000) }))
}

/** Synchronous last resort (process 'exit' handler): SIGKILL whatever is left. */
export function killAllNow (): void {
  for (const child of children) if (!exited(child)) child.kill('SIGKILL')
}

export interface RunResult { ms: number, stdout: string, stderr: string }

/** Runs a command to completion, timing it from spawn to exit. Fails on a non-zero exit. */
export async function run (command: string, args: string[], options: { env?: NodeJS.ProcessEnv, timeoutMs?: number } = {}): Promise<RunResult> {
  const started = performance.now()
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env }))
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeoutMs ?? 600_000)
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (exitCode) => { resolve(exitCode) })
  }).finally(() => { clearTimeout(timer) })
  const ms = performance.now() - started
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${String(code)}: ${stderr.trim().slice(-2000)}`)
  return { ms, stdout, stderr }
}

export async function sha256sum (path: string): Promise<{ hex: string, ms: number }> {
  const result = await run('sha256sum', [path])
  const hex = result.stdout.trim().split(/\s+/)[0] ?? ''
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`unexpected sha256sum output: ${result.stdout}`)
  return { hex, ms: result.ms }
}

export async function freePort (): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address != null ? address.port : 0
      server.close(() => { resolve(port) })
    })
  })
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Reads a field such as VmHWM or VmRSS from /proc/<pid>/status, in bytes. */
export function procStatusBytes (pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
  if (match == null) throw new Error(`no ${field} in /proc/${pid}/status`)
  return Number(match[1]) * 1024
}

/**
 * Resets the kernel's peak-RSS counter (VmHWM) to the current RSS, so the next reading is the
 * peak of what follows (Linux >= 4.0, writing 5 to clear_refs). Returns false where not allowed.
 */
export function resetPeakRss (pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}
