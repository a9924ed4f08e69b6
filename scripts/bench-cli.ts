/**
 * CLI start-up benchmark: how long `chiral ls`, `status`, `peers` and `earnings` take against a
 * running daemon and how much memory they use, next to `node -e 0` (the floor: Node starting and
 * exiting with nothing loaded). One daemon (default genesis, not mining, one small file seeded);
 * each command runs once to warm the page cache, then RUNS times, the commands interleaved, each
 * run after a quiet moment on the machine. Wall time is spawn to exit; peak RSS is the maximum
 * resident set size GNU time reports. Writes its section of BENCHMARKS.md.
 * Usage: node dist/scripts/bench-cli.js (after npm run build)
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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
const TARGET_WALL_MS = 150
const TARGET_RSS_MIB = 60
const GNU_TIME = '/usr/bin/time'
/** Each run waits for other processes to use less than 0.15 cores, at most 10 s, 120 s in all. */
const load = new LoadMonitor(120_000, 10_000)

const log = (message: string): void => { process.stderr.write(`[bench-cli ${new Date().toISOString().slice(11, 19)}] ${message}\n`) }

interface Measured { label: string, walls: number[], rssMiB: number[], foreignCores: number[] }

function hasGnuTime (): boolean {
  try {
    accessSync(GNU_TIME, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The environment without CHIRAL_* settings, so the CLI finds the daemon through --home only. */
function cliEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CHIRAL_')))
}

/** One run: wall ms from spawn to exit, and peak RSS in MiB (NaN without GNU time). Fails on a non-zero exit. */
async function once (argv: string[], rssFile: string): Promise<{ wallMs: number, rssMiB: number }> {
  const timed = hasGnuTime() ? [GNU_TIME, '-f', '%M', '-o', rssFile, ...argv] : argv
  const started = performance.now()
  const child = track(spawn(timed[0] as string, timed.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: cliEnv() }))
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', resolve)
  })
  const wallMs = performance.now() - started
  if (code !== 0) throw new Error(`${argv.join(' ')} exited ${String(code)}: ${stderr.trim().slice(-1000)}`)
  const rssMiB = hasGnuTime() ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) / 1024 : Number.NaN
  return { wallMs, rssMiB }
}

const ms = (value: number): string => Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a'
const mib = (value: number): string => Number.isFinite(value) ? `${value.toFixed(1)} MiB` : 'n/a'

async function main (): Promise<void> {
  const started = Date.now()
  const root = mkdtempSync(join(tmpdir(), 'chiral-bench-cli-'))
  const home = join(root, 'home')
  const rssFile = join(root, 'rss')
  try {
    const daemon = await Daemon.start({ name: 'cli', home })
    const file = join(root, 'seeded.bin')
    writeFileSync(file, randomBytes(1024 * 1024))
    await daemon.api('POST', '/api/files', { path: file })
    log(`daemon ${daemon.apiUrl} up, one file seeded`)

    const commands: Array<{ label: string, argv: string[] }> = [
      { label: '`node -e 0` (floor)', argv: [process.execPath, '-e', '0'] },
      ...['ls', 'status', 'peers', 'earnings'].map(command => ({ label: `\`chiral ${command}\``, argv: [process.execPath, CLI, '--home', home, command] }))
    ]
    const results: Measured[] = commands.map(({ label }) => ({ label, walls: [], rssMiB: [], foreignCores: [] }))
    for (const command of commands) await once(command.argv, rssFile)
    for (let round = 1; round <= RUNS; round++) {
      for (const [index, command] of commands.entries()) {
        await load.waitForQuiet(log)
        const { value, foreignCores } = await load.measure(async () => await once(command.argv, rssFile))
        const result = results[index] as Measured
        result.walls.push(value.wallMs)
        result.rssMiB.push(value.rssMiB)
        result.foreignCores.push(foreignCores)
      }
      log(`round ${round}/${RUNS}: ${results.map(r => `${r.label.replace(/`/g, '')} ${ms(r.walls[r.walls.length - 1] ?? Number.NaN)}`).join(', ')}`)
    }
    await daemon.stop()

    const floor = results[0] as Measured
    const floorWall = median(floor.walls)
    const rows = results.map((result, index) => {
      const wall = median(result.walls)
      const rss = median(result.rssMiB)
      const isFloor = index === 0
      const met = !isFloor && wall < TARGET_WALL_MS && (!Number.isFinite(rss) || rss < TARGET_RSS_MIB)
      return `| ${result.label} | **${ms(wall)}** (${result.walls.map(w => w.toFixed(0)).join(', ')}) | ${isFloor ? '-' : `${wall >= floorWall ? '+' : ''}${ms(wall - floorWall)}`} | **${mib(rss)}** (max ${mib(Math.max(...result.rssMiB))}) | ${isFloor ? '-' : `< ${TARGET_WALL_MS} ms, < ${TARGET_RSS_MIB} MiB`} | ${isFloor ? '-' : met ? '**met**' : '**missed**'} |`
    })
    const foreign = results.flatMap(result => result.foreignCores)
    const commit = (await run('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).catch(() => ({ stdout: '?' }))).stdout.trim()
    const section = [
      MARKER, '', '## CLI start-up (commands that only talk to the daemon)', '',
      `Command: \`node dist/scripts/bench-cli.js\` (part of \`npm run bench\`). Machine: ${cpus().length} cores, ${cpus()[0]?.model.trim() ?? '?'}, Node ${process.version}, commit ${commit}. Date: ${new Date().toISOString()}. Wall time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
      '',
      `One daemon (default genesis, not mining, one 1 MiB file seeded). Each command ran once to warm the page cache, then ${RUNS} times, the commands interleaved, each run after waiting for other processes to use under 0.15 cores (during the runs they used a median of ${median(foreign).toFixed(2)} and at most ${Math.max(...foreign).toFixed(2)} cores). Wall is spawn to exit, as a user waits for it; peak RSS is the maximum resident set size from GNU time (\`${GNU_TIME} -f %M\`${hasGnuTime() ? '' : ', not installed here: n/a'}). \`node -e 0\` is the floor: Node itself starting and exiting. These commands load only the CLI's parser (commander), its HTTP client (node:http) and formatting; the daemon, add, get and keystore commands load their modules when they run (\`test/node/cli-modules.test.ts\` fails if an API-only command loads any other package).`,
      '',
      '| command | wall, median (runs) | over the floor | peak RSS, median | target | status |',
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
