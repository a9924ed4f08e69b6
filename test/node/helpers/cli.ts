import { CLI_PATH } from './paths.js'
import { run, type RunResult } from './processes.js'

export interface CliResult extends RunResult {
  /** The last non-empty line of stdout (where `add` prints the content id). */
  lastLine: string
}

/** Runs `chiral --home <home> <args...>` as a separate process. */
export async function chiral (home: string, args: string[], options: { timeoutMs?: number } = {}): Promise<CliResult> {
  const result = await run(process.execPath, [CLI_PATH, '--home', home, ...args], { timeoutMs: options.timeoutMs ?? 90_000 })
  const lines = result.stdout.split('\n').map(line => line.trim()).filter(line => line !== '')
  return { ...result, lastLine: lines[lines.length - 1] ?? '' }
}

export function describeResult (result: RunResult): string {
  return `exit ${result.code}${result.timedOut ? ' (timed out)' : ''}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`
}

/** `chiral add <file>`, failing the test unless it exits 0; returns the content id. */
export async function addFile (home: string, path: string, extra: string[] = []): Promise<string> {
  const result = await chiral(home, ['add', path, ...extra])
  if (result.code !== 0) throw new Error(`chiral add ${path} failed: ${describeResult(result)}`)
  return result.lastLine
}
