/**
 * CLI start-up benchmark: how long `chiral ls`, `status`, `peers` and `earnings` take against a
 * running daemon and how much memory they use, next to `node -e 0` (the floor: Node starting and
 * exiting with nothing loaded) and `chiral limits` (a command that goes through the argument
 * parser). One daemon (default genesis, not mining, one small file seeded); each command runs
 * once to warm the page cache, then RUNS times, the commands interleaved, each run after a quiet
 * moment on the machine. Each run is timed by a small python3 parent (python3 is needed to build
 * the native addon anyway): wall time from fork to exit, and the child's own CPU time and peak
 * RSS from wait4(). Writes its section of BENCHMARKS.md.
 * Usage: node dist/scripts/bench-cli.js (after npm run build)
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Daemon } from './bench/daemon.js'
import { LoadMonitor } from './bench/load.js'
import { CLI, killAll, run, track } from './bench/proc.js'
import { writeBenchSection } from './bench/sections.js'
import { median } from './bench/stats.js'

const MARKER = '<!-- cli-bench -->'
const BENCHMARKS = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))
const REPO = fileURLToPath(new URL('../../', import.meta.url))
const RUNS = 5
/** The commands with a target; `limits` is measured too, as one that goes through commander. */
const TARGETED = ['ls', 'status', 'peers', 'earnings']
const TARGET_WALL_MS = 150
const TARGET_RSS_MIB = 60
/** Each run waits for other processes to use less than 0.15 cores, at most 20 s, 300 s in all. */
const load = new LoadMonitor(300_000, 20_000)

/**
 * Runs argv[1:] with its stdout on /dev/null and prints "<wall ms> <cpu ms> <max RSS KiB> <exit code>":
 * the wall time from fork to exit, and the user + system time and peak RSS of that child alone.
 */
const TIMER = `
import os, sys, time
start = time.monotonic()
pid = os.fork()
if pid == 0:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
print(wall * 1000, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
`

const log = (message: string): void => { process.stderr.write(`[bench-cli ${new Date().toISOString().slice(11, 19)}] ${message}\n`) }

interface Run { wallMs: number, cpuMs: number, rssMiB: number }
interface Measured { label: string, runs: Run[], foreignCores: number[] }

/** The environment without CHIRAL_* settings, so the CLI finds the daemon through --home only. */
function cliEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CHIRAL_')))
}

/** One run of argv under the python3 timer. Fails on a non-zero exit. */
async function once (argv: string[]): Promise<Run> {
  const child = track(spawn('python3', ['-c', TIMER, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: cliEnv() }))
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  const [wallMs, cpuMs, rssKiB, exitCode] = stdout.trim().split(/\s+/).map(Number)
  if (code !== 0 || exitCode !== 0 || wallMs == null || cpuMs == null || rssKiB == null) {
    throw new Error(`${argv.join(' ')} exited ${String(exitCode ?? code)}: ${stderr.trim().slice(-1000)}`)
  }
  return { wallMs, cpuMs, rssMiB: rssKiB / 1024 }
}

const ms = (value: number): string => Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a'
const mib = (value: number): string => Number.isFinite(value) ? `${value.toFixed(1)} MiB` : 'n/a'
const signedMs = (value: number): string => `${value >= 0 ? '+' : ''}${ms(value)}`

async function main (): Promise<void> {
  const started = Date.now()
  const root = mkdtempSync(join(tmpdir(), 'chiral-bench-cli-'))
  const home = join(root, 'home')
  try {
    const daemon = await Daemon.start({ name: 'cli', home })
    const file = join(root, 'seeded.bin')
    writeFileSync(file, randomBytes(1024 * 1024))
    await daemon.api('POST', '/api/files', { path: file })
    log(`daemon ${daemon.apiUrl} up, one file seeded`)

    const commands: Array<{ label: string, argv: string[] }> = [
      { label: '`node -e 0` (floor)', argv: [process.execPath, '-e', '0'] },
      ...TARGETED.map(command => ({ label: `\`chiral ${command}\``, argv: [process.execPath, CLI, '--home', home, command] })),
      { label: '`chiral limits` (through the argument parser, for comparison)', argv: [process.execPath, CLI, '--home', home, 'limits'] }
    ]
    const results: Measured[] = commands.map(({ label }) => ({ label, runs: [], foreignCores: [] }))
    for (const command of commands) await once(command.argv)
    for (let round = 1; round <= RUNS; round++) {
      for (const [index, command] of commands.entries()) {
        await load.waitForQuiet(log)
        const { value, foreignCores } = await load.measure(async () => await once(command.argv))
        const result = results[index] as Measured
        result.runs.push(value)
        result.foreignCores.push(foreignCores)
      }
      log(`round ${round}/${RUNS}: ${results.map(r => `${r.label.replace(/`/g, '')} ${ms(r.runs[r.runs.length - 1]?.wallMs ?? Number.NaN)}`).join(', ')}`)
    }
    await daemon.stop()

    const floor = results[0] as Measured
    const floorWall = median(floor.runs.map(r => r.wallMs))
    const floorCpu = median(floor.runs.map(r => r.cpuMs))
    const rows = results.map((result, index) => {
      const wall = median(result.runs.map(r => r.wallMs))
      const cpu = median(result.runs.map(r => r.cpuMs))
      const rss = median(result.runs.map(r => r.rssMiB))
      const isFloor = index === 0
      const targeted = index >= 1 && index <= TARGETED.length
      const met = wall < TARGET_WALL_MS && rss < TARGET_RSS_MIB
      return `| ${result.label} | **${ms(wall)}** (${result.runs.map(r => r.wallMs.toFixed(0)).join(', ')})${isFloor ? '' : `, ${signedMs(wall - floorWall)}`} | ${ms(cpu)}${isFloor ? '' : `, ${signedMs(cpu - floorCpu)}`} | **${mib(rss)}** (max ${mib(Math.max(...result.runs.map(r => r.rssMiB)))}) | ${targeted ? `< ${TARGET_WALL_MS} ms, < ${TARGET_RSS_MIB} MiB` : '-'} | ${targeted ? met ? '**met**' : '**missed**' : '-'} |`
    })
    const foreign = results.flatMap(result => result.foreignCores)
    const commit = (await run('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).catch(() => ({ stdout: '?' }))).stdout.trim()
    const section = [
      MARKER, '', '## CLI start-up (commands that only talk to the daemon)', '',
      `Command: \`node dist/scripts/bench-cli.js\` (part of \`npm run bench\`). Machine: ${cpus().length} cores, ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}, commit ${commit}. Date: ${new Date().toISOString()}. Wall time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
      '',
      `One daemon (default genesis, not mining, one 1 MiB file seeded). Each command ran once to warm the page cache, then ${RUNS} times, the commands interleaved, each run after waiting for other processes to use under 0.15 cores (during the runs they used a median of ${median(foreign).toFixed(2)} and at most ${Math.max(...foreign).toFixed(2)} cores). Each run is timed by a python3 parent: wall from fork to exit, as a user waits for it; CPU (user + system) and peak RSS of the command alone, from wait4(). \`node -e 0\` is the floor: Node itself starting and exiting. In this plain form (\`[--home <dir>] <command> [--json]\`) the four commands load no package: main.ts runs them without the argument parser (\`node/cli/quick.ts\`), with only the API client (node:http) and formatting. Other commands that only talk to the daemon, like \`limits\`, load commander too; the daemon, add, get and keystore commands load their modules when they run (\`test/node/cli-modules.test.ts\` fails if an API-only command loads more).`,
      '',
      '| command | wall, median (runs), over the floor | CPU, median, over the floor | peak RSS, median | target | status |',
      '|---|---|---|---|---|---|',
      ...rows,
      ''
    ].join('\n')
    writeBenchSection(BENCHMARKS, MARKER, section)
    log(`wrote ${BENCHMARKS}`)
    process.stdout.write(`${rows.join('\n')}\n`)
  } finally {
    await killAll()
    rmSync(root, { recursive: true, force: true })
  }
}

main().catch(async (err: unknown) => {
  log(`failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
  await killAll()
  process.exit(1)
})
