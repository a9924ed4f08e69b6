/**
 * Benchmark harness: real daemons on loopback, the real CLI, curl, sha256sum and a static file
 * server, measured side by side in one run. `npm run bench` prints the results and rewrites
 * BENCHMARKS.md. `node dist/scripts/bench.js --profile` instead profiles one seeder and one
 * downloader (node --cpu-prof) during a 1 GiB download and prints their hottest frames.
 *
 * Knobs for quick trials (BENCHMARKS.md is only written with the defaults):
 * BENCH_FILE_MIB (1024), BENCH_REPS (3), BENCH_RATE_MIB (10), BENCH_KEEP_TMP=1, and BENCH_ONLY, a
 * comma-separated list of download scenarios to run alone (`http-1`, `native-4`, `both-1`, `limited-4`;
 * `network` for the 10-node section).
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { randomFillSync } from 'node:crypto'
import { release } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseContentId } from '../node/content/cid.js'
import { Daemon } from './bench/daemon.js'
import { summarizeSources, timedDownload, type DownloadRun } from './bench/download.js'
import { LoadMonitor } from './bench/load.js'
import { killAll, killAllNow, run, sha256sum, sleep } from './bench/proc.js'
import { GNU_TIME_FORMAT, NO_STATS, enableDelayAccounting, medianStats, parseGnuTime, readProcessStats, statsSince, type ProcessStats } from './bench/proc-stats.js'
import { monotonicMicros, topFrames } from './bench/profile.js'
import { startStaticServer, type StaticServer } from './bench/static-server.js'
import { GiB, MB, MiB, fmt, mbps, median, percentile } from './bench/stats.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const FILE_BYTES = Number(process.env.BENCH_FILE_MIB ?? 1024) * MiB
const REPS = Number(process.env.BENCH_REPS ?? 3)
const RATE = Number(process.env.BENCH_RATE_MIB ?? 10) * MiB
const NETWORK_NODES = 10
const SMALL_BYTES = MiB
/** Seeds of the small files in the 10-node network, and who fetches each (offsets from the seed). */
const SMALL_SEEDS = [1, 3, 5, 7, 9]
const FETCHER_OFFSETS = [1, 3, 5, 8]
const THROUGHPUT_POLL_MS = 20
const LATENCY_POLL_MS = 5
const PROFILE = process.argv.includes('--profile')
/** Up to this much time in total is spent waiting for other processes to go quiet. */
const QUIET_WAIT_BUDGET_MS = 120_000
const ONLY = process.env.BENCH_ONLY?.split(',').map(key => key.trim()).filter(key => key !== '')
const DEFAULTS = FILE_BYTES === GiB && REPS >= 3 && RATE === 10 * MiB && ONLY == null
const SIZE = FILE_BYTES % GiB === 0 ? `${FILE_BYTES / GiB} GiB` : `${FILE_BYTES / MiB} MiB`

type Mode = 'native' | 'http' | 'both'
const MODES: Array<{ mode: Mode, label: string }> = [
  { mode: 'native', label: 'native only' },
  { mode: 'http', label: 'HTTP only' },
  { mode: 'both', label: 'native + HTTP (default)' }
]
const TRANSPORTS_ENV: Record<Mode, string> = { native: 'native', http: 'http', both: 'native,http' }

function selected (key: string): boolean {
  return ONLY == null || ONLY.includes(key)
}

interface Scenario {
  key: string
  label: string
  mode: Mode
  seeders: number
  limited: boolean
  runs: Array<DownloadRun & { foreignCores: number }>
  error?: string
}

interface Results {
  machine: Record<string, string>
  staticServer: string
  sha: number[]
  cliAdd: number[]
  apiAdd: number[]
  curl: number[]
  curlFromNode: number[]
  /** curl's own counters and the server's, per run: from the static server, then from a seeder. */
  curlStats: Array<{ curl: ProcessStats, server: ProcessStats }>
  curlFromNodeStats: Array<{ curl: ProcessStats, server: ProcessStats }>
  delayAccounting: boolean
  scenarios: Scenario[]
  network?: { ttfb: number[], completion: number[], failures: string[], retrievals: number, byFile: Array<{ file: string, fetches: string[] }> }
  networkError?: string
  errors: string[]
  wallMs: number
  /** Average CPU (cores) used by processes outside the bench during each measurement. */
  foreign: number[]
  quietWaitMs: number
}

const benchStarted = performance.now()
let tempRoot: string | undefined
const load = new LoadMonitor(QUIET_WAIT_BUDGET_MS)
function log (message: string): void {
  process.stdout.write(`[${((performance.now() - benchStarted) / 1000).toFixed(1).padStart(6)} s] ${message}\n`)
}

function errorText (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

async function writeRandomFile (path: string, bytes: number): Promise<void> {
  const handle = await open(path, 'w', 0o644)
  const block = Buffer.allocUnsafe(16 * MiB)
  try {
    for (let offset = 0; offset < bytes; offset += block.length) {
      const length = Math.min(block.length, bytes - offset)
      randomFillSync(block, 0, length)
      await handle.write(block, 0, length, offset)
    }
  } finally {
    await handle.close()
  }
}

async function firstLine (command: string, args: string[]): Promise<string> {
  try {
    const result = await run(command, args, { timeoutMs: 10_000 })
    return (`${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '').trim()
  } catch (err) {
    return `unavailable (${errorText(err).slice(0, 80)})`
  }
}

/** 1/5/15-minute load averages: other work on the machine skews every number here. */
function loadAverage (): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
}

async function machineInfo (): Promise<Record<string, string>> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0)
  const commit = await firstLine('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])
  const dirty = await run('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md']).then(r => r.stdout.trim() !== '', () => false)
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    cpu: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    nproc: (await firstLine('nproc', [])),
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    node: process.version,
    kernel: release(),
    curl: await firstLine('curl', ['--version']),
    sha256sum: await firstLine('sha256sum', ['--version']),
    commit: `${commit}${dirty ? ' + uncommitted changes in the work tree' : ''}`,
    loadStart: loadAverage()
  }
}

function cidOf (stdout: string): string {
  const lines = stdout.trim().split('\n')
  return (lines[lines.length - 1] ?? '').trim()
}

function checkCid (cid: string, sha256Hex: string): void {
  const digest = Buffer.from(parseContentId(cid).digest).toString('hex')
  if (digest !== sha256Hex) throw new Error(`content id ${cid} has digest ${digest}, sha256sum says ${sha256Hex}`)
}

async function verifyOutput (path: string, bytes: number, sha256Hex: string): Promise<void> {
  const size = statSync(path).size
  if (size !== bytes) throw new Error(`${path} has ${size} bytes, expected ${bytes}`)
  const { hex } = await sha256sum(path)
  if (hex !== sha256Hex) throw new Error(`${path}: sha256sum ${hex}, expected ${sha256Hex}`)
}

/** A fresh downloader daemon restricted to `mode`, REPS timed 1 GiB downloads, each verified. */
async function downloadScenario (
  scenario: Scenario, ctx: { bootstrap: string, cid: string, sha: string, homes: string, downloads: string, foreign: number[], seederPids: number[] }
): Promise<void> {
  let downloader: Daemon | undefined
  try {
    downloader = await Daemon.start({
      name: `downloader-${scenario.key}`,
      home: join(ctx.homes, `downloader-${scenario.key}`),
      bootstrap: ctx.bootstrap,
      env: { CHIRAL_DOWNLOAD_TRANSPORTS: TRANSPORTS_ENV[scenario.mode] }
    })
    await downloader.waitForPeers(1)
    await sleep(1000)
    for (let i = 0; i < REPS; i++) {
      const output = join(ctx.downloads, `${scenario.key}-${i}.bin`)
      await load.waitForQuiet(log)
      const measured = await load.measure(async () => await timedDownload(downloader as Daemon, ctx.cid, output, THROUGHPUT_POLL_MS, undefined, ctx.seederPids))
      const result = { ...measured.value, foreignCores: measured.foreignCores }
      ctx.foreign.push(measured.foreignCores)
      await verifyOutput(output, FILE_BYTES, ctx.sha)
      // Stop seeding the copy (withdraws its record) so it never counts as another seeder.
      await downloader.api('POST', `/api/files/${ctx.cid}/stop`)
      rmSync(output, { force: true })
      scenario.runs.push(result)
      const used = summarizeSources(result.sources)
      log(`  ${scenario.label}, ${scenario.seeders} seeder(s)${scenario.limited ? ` limited to ${fmt.mbps(RATE / MB)} each` : ''} #${i + 1}: ` +
        `${fmt.s(result.totalMs)} = ${fmt.mbps(mbps(FILE_BYTES, result.totalMs))} end-to-end, transfer ${fmt.mbps(mbps(FILE_BYTES, result.transferMs))}, ` +
        `ttfb ${fmt.ms(result.ttfbMs)}, finish ${fmt.ms(result.finishMs)}, native ${fmt.mb(used.native)} / http ${fmt.mb(used.http)} from ${used.seeders} seeder(s), ` +
        `RSS ${fmt.mb(result.rssBefore)} before, peak ${fmt.mb(result.peakRss)}; downloader ${describeStats(result.stats.downloader)}; ` +
        `seeders ${describeStats(result.stats.seeders)}; other processes ${result.foreignCores.toFixed(2)} cores`)
    }
  } catch (err) {
    scenario.error = errorText(err)
    log(`  ${scenario.label} FAILED: ${scenario.error}`)
    if (downloader != null) log(downloader.logs())
  } finally {
    await downloader?.stop()
  }
}

async function latencyNetwork (root: string, data: string, downloads: string, results: Results): Promise<void> {
  const nodes: Daemon[] = []
  try {
    const first = await Daemon.start({ name: 'net-0', home: join(root, 'homes', 'net-0') })
    nodes.push(first)
    // One at a time: libp2p refuses more than 5 inbound connections per second from one host
    // (connectionManager.inboundConnectionThreshold), and on loopback every peer is 127.0.0.1.
    for (let i = 1; i < NETWORK_NODES; i++) {
      const node = await Daemon.start({ name: `net-${i}`, home: join(root, 'homes', `net-${i}`), bootstrap: first.p2p })
      nodes.push(node)
      await node.waitForPeers(1)
    }
    await sleep(2000)
    log(`  ${NETWORK_NODES} daemons up (star around net-0), ${(await first.api<{ connectedPeers: number }>('GET', '/api/status')).body.connectedPeers} peers on net-0`)
    const files: Array<{ cid: string, sha: string, seed: number }> = []
    for (const [k, seed] of SMALL_SEEDS.entries()) {
      const path = join(data, `small-${k}.bin`)
      await writeRandomFile(path, SMALL_BYTES)
      const { hex } = await sha256sum(path)
      const cid = cidOf((await (nodes[seed] as Daemon).cli(['add', path])).stdout)
      checkCid(cid, hex)
      files.push({ cid, sha: hex, seed })
    }
    await sleep(3000)
    const network = { ttfb: [] as number[], completion: [] as number[], failures: [] as string[], retrievals: 0, byFile: [] as Array<{ file: string, fetches: string[] }> }
    results.network = network
    for (const [k, file] of files.entries()) {
      const row = { file: `${k} (net-${file.seed})`, fetches: [] as string[] }
      network.byFile.push(row)
      for (const offset of FETCHER_OFFSETS) {
        const fetcher = nodes[(file.seed + offset) % NETWORK_NODES] as Daemon
        const output = join(downloads, `small-${k}-${fetcher.name}.bin`)
        network.retrievals++
        try {
          await load.waitForQuiet(log)
          const measured = await load.measure(async () => await timedDownload(fetcher, file.cid, output, LATENCY_POLL_MS, 60_000))
          const result = measured.value
          results.foreign.push(measured.foreignCores)
          await verifyOutput(output, SMALL_BYTES, file.sha)
          network.ttfb.push(result.ttfbMs)
          network.completion.push(result.totalMs)
          row.fetches.push(`${fetcher.name}: ${fmt.ms(result.ttfbMs)} / ${fmt.ms(result.totalMs)} (${result.seedersFound})`)
          log(`  1 MiB file ${k} seeded on net-${file.seed} -> ${fetcher.name}: ttfb ${fmt.ms(result.ttfbMs)}, completed ${fmt.ms(result.totalMs)}, ` +
            `${result.seedersFound} seeder(s) found; other processes ${measured.foreignCores.toFixed(2)} cores`)
        } catch (err) {
          network.failures.push(`${fetcher.name} <- file ${k}: ${errorText(err)}`)
          row.fetches.push(`${fetcher.name}: failed`)
          log(`  1 MiB file ${k} -> ${fetcher.name} FAILED: ${errorText(err)}`)
        }
      }
    }
  } finally {
    await Promise.all(nodes.map(async node => { await node.stop() }))
  }
}

async function profileRun (root: string, data: string, downloads: string): Promise<void> {
  const file = join(data, 'a.bin')
  log(`profiling: writing ${fmt.mb(FILE_BYTES)} of random data`)
  await writeRandomFile(file, FILE_BYTES)
  const { hex } = await sha256sum(file)
  const profiles = (name: string): string => { const dir = join(root, 'profiles', name); mkdirSync(dir, { recursive: true }); return dir }
  const seeder = await Daemon.start({ name: 'seeder', home: join(root, 'homes', 'seeder'), nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles('seeder')}`] })
  const cid = cidOf((await seeder.cli(['add', file])).stdout)
  checkCid(cid, hex)
  const windows: Array<{ mode: string, from: number, to: number }> = []
  for (const mode of ['native', 'http'] as const) {
    const downloader = await Daemon.start({
      name: `downloader-${mode}`,
      home: join(root, 'homes', `downloader-${mode}`),
      bootstrap: seeder.p2p,
      env: { CHIRAL_DOWNLOAD_TRANSPORTS: mode },
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles(`downloader-${mode}`)}`]
    })
    await downloader.waitForPeers(1)
    await sleep(1000)
    const output = join(downloads, `profile-${mode}.bin`)
    const from = monotonicMicros()
    const result = await timedDownload(downloader, cid, output, THROUGHPUT_POLL_MS)
    windows.push({ mode, from, to: monotonicMicros() })
    await verifyOutput(output, FILE_BYTES, hex)
    await downloader.api('POST', `/api/files/${cid}/stop`)
    rmSync(output, { force: true })
    log(`  ${mode} download under the profiler: ${fmt.s(result.totalMs)} (transfer ${fmt.mbps(mbps(FILE_BYTES, result.transferMs))}, finish ${fmt.ms(result.finishMs)})`)
    await downloader.stop()
  }
  await seeder.stop()
  for (const { mode, from, to } of windows) {
    for (const name of [`downloader-${mode}`, 'seeder']) {
      const { frames, busyPercent, windowMs, threads } = topFrames(join(root, 'profiles', name), from, to)
      process.stdout.write(`\n${name} during the ${mode} download (${fmt.s(windowMs)}, ${threads} thread(s)): busy ${busyPercent.toFixed(0)}% of one core; top self time, as share of busy time:\n`)
      for (const frame of frames) process.stdout.write(`  ${frame.busyPercent.toFixed(1).padStart(5)}%  ${frame.ms.toFixed(0).padStart(6)} ms  ${frame.name}\n`)
    }
  }
}

/** curl under GNU time, so its own counters sit next to those of the process serving it. */
async function timedCurl (url: string, output: string, servingPid: number | undefined): Promise<{ ms: number, curl: ProcessStats, server: ProcessStats }> {
  const before = servingPid == null ? undefined : readProcessStats(servingPid)
  const result = await run('/usr/bin/time', ['-f', GNU_TIME_FORMAT, 'curl', '-sS', '-f', '-o', output, url])
  const curl = parseGnuTime(result.stderr)
  if (curl == null) throw new Error(`no GNU time report in curl's stderr: ${result.stderr.slice(-500)}`)
  const server = servingPid == null || before == null ? NO_STATS : statsSince(readProcessStats(servingPid), before)
  return { ms: result.ms, curl, server }
}

function cpuSeconds (stats: ProcessStats): number {
  return stats.user + stats.system
}

const THREAD_KINDS = ['main', 'libuv pool', 'V8 and other']

function describeStats (stats: ProcessStats): string {
  return `CPU ${stats.user.toFixed(2)} s user + ${stats.system.toFixed(2)} s system (${THREAD_KINDS.map(kind => `${kind} ${(stats.threads[kind] ?? 0).toFixed(2)}`).join(', ')}), ` +
    `${stats.minorFaults} minor / ${stats.majorFaults} major faults, ${stats.voluntarySwitches} / ${stats.involuntarySwitches} switches, ` +
    `run-queue wait ${stats.runQueueWait.toFixed(2)} s, block I/O ${stats.blockIoWait.toFixed(2)} s`
}

function thousands (count: number): string {
  return count >= 10_000 ? `${Math.round(count / 1000)}k` : String(Math.round(count))
}

/** A row of the where-the-time-goes table. Thread columns stay empty for programs read through GNU time. */
function statsRow (row: string, process: string, stats: ProcessStats, delayAccounting: boolean): string[] {
  return [
    row,
    process,
    `${stats.user.toFixed(2)} / ${stats.system.toFixed(2)}`,
    Object.keys(stats.threads).length === 0 ? '-' : THREAD_KINDS.map(kind => (stats.threads[kind] ?? 0).toFixed(2)).join(' / '),
    `${thousands(stats.minorFaults)} / ${thousands(stats.majorFaults)}`,
    `${thousands(stats.voluntarySwitches)} / ${thousands(stats.involuntarySwitches)}`,
    Object.keys(stats.threads).length === 0 ? '-' : stats.runQueueWait.toFixed(2),
    Object.keys(stats.threads).length === 0 || !delayAccounting ? '-' : stats.blockIoWait.toFixed(2)
  ]
}

function mark (met: boolean | undefined): string {
  return met == null ? 'n/a' : met ? 'yes' : '**no**'
}

function scenarioStats (scenario: Scenario): {
  total: number, best: number, transfer: number, ttfb: number, finish: number, peak: number, rssBefore: number, foreign: number,
  native: number, http: number, seeders: number, restricted: boolean | undefined, cpuDownloader: number, cpuSeeders: number,
  downloaderStats: ProcessStats, seedersStats: ProcessStats
} {
  const runs = scenario.runs
  const used = runs.map(r => summarizeSources(r.sources))
  const restricted = scenario.mode === 'both' || runs.length === 0
    ? undefined
    : used.every(u => scenario.mode === 'native' ? u.http === 0 && u.native > 0 : u.native === 0 && u.http > 0)
  return {
    total: median(runs.map(r => r.totalMs)),
    best: Math.min(...runs.map(r => r.totalMs)),
    transfer: median(runs.map(r => r.transferMs)),
    ttfb: median(runs.map(r => r.ttfbMs)),
    finish: median(runs.map(r => r.finishMs)),
    peak: Math.max(...runs.map(r => r.peakRss)),
    rssBefore: median(runs.map(r => r.rssBefore)),
    foreign: Math.max(...runs.map(r => r.foreignCores)),
    native: median(used.map(u => u.native)),
    http: median(used.map(u => u.http)),
    seeders: Math.min(...used.map(u => u.seeders)),
    restricted,
    cpuDownloader: median(runs.map(r => cpuSeconds(r.stats.downloader))),
    cpuSeeders: median(runs.map(r => cpuSeconds(r.stats.seeders))),
    downloaderStats: medianStats(runs.map(r => r.stats.downloader), median),
    seedersStats: medianStats(runs.map(r => r.stats.seeders), median)
  }
}

function render (results: Results): { markdown: string, missed: string[] } {
  const missed: string[] = []
  const rows: string[][] = []
  const target = (id: string, metric: string, measured: string, goal: string, met: boolean | undefined): void => {
    rows.push([id, metric, measured, goal, mark(met)])
    if (met === false) missed.push(`${id} ${metric}: ${measured} (target ${goal})`)
  }
  const find = (mode: Mode, seeders: number, limited = false): Scenario | undefined =>
    results.scenarios.find(s => s.mode === mode && s.seeders === seeders && s.limited === limited)
  const ok = (s: Scenario | undefined): boolean => s != null && s.error == null && s.runs.length > 0
  const good = (s: Scenario | undefined): Scenario | undefined => ok(s) ? s : undefined

  const shaMs = median(results.sha)
  const cliMs = median(results.cliAdd)
  const apiMs = median(results.apiAdd)
  const curlMs = median(results.curl)
  const shaRate = mbps(FILE_BYTES, shaMs)
  target('a', `\`chiral add\` (CLI, wall) vs \`sha256sum\`, ${SIZE}`, `${fmt.x(shaMs / cliMs)} (${fmt.mbps(mbps(FILE_BYTES, cliMs))} vs ${fmt.mbps(shaRate)})`, '>= 0.9x', shaMs / cliMs >= 0.9)
  target('a', `raw API add (POST /api/files), ${SIZE}`, `${fmt.s(apiMs)} = ${fmt.mbps(mbps(FILE_BYTES, apiMs))} (${fmt.x(shaMs / apiMs)} sha256sum)`, '-', undefined)

  const native1 = find('native', 1)
  const native1ok = good(native1)
  if (native1ok != null) {
    const rate = mbps(FILE_BYTES, scenarioStats(native1ok).total)
    target('b', `native, 1 seeder, ${SIZE} end-to-end`, fmt.mbps(rate), '>= 200 MB/s', rate >= 200)
  } else target('b', 'native, 1 seeder', `failed: ${native1?.error ?? 'not run'}`, '>= 200 MB/s', false)
  const native4 = good(find('native', 4))
  if (native4 != null) target('b', `native, 4 seeders, ${SIZE} end-to-end`, fmt.mbps(mbps(FILE_BYTES, scenarioStats(native4).total)), '-', undefined)
  for (const seeders of [1, 4]) {
    const http = find('http', seeders)
    const httpOk = good(http)
    if (httpOk != null) {
      const ratio = curlMs / scenarioStats(httpOk).total
      // curl's page-cache writes vary a lot on this VM (first touch of host-reclaimed memory), so the best runs are compared too.
      const bestRatio = Math.min(...results.curl) / scenarioStats(httpOk).best
      target('b', `HTTP, ${seeders} seeder(s) vs \`curl -o\` from ${results.staticServer.split(' ')[0] ?? ''}`,
        `${fmt.x(ratio)} of medians (${fmt.mbps(mbps(FILE_BYTES, scenarioStats(httpOk).total))} vs ${fmt.mbps(mbps(FILE_BYTES, curlMs))}); best run vs best run ${fmt.x(bestRatio)}`,
        '>= 0.8x', ratio >= 0.8)
    } else target('b', `HTTP, ${seeders} seeder(s) vs curl`, `failed: ${http?.error ?? 'not run'}`, '>= 0.8x', false)
    if (seeders === 1 && results.curlFromNode.length > 0) {
      const nodeMs = median(results.curlFromNode)
      target('b', `a chiral seeder's HTTP server vs ${results.staticServer.split(' ')[0] ?? ''}, both to \`curl -o\``,
        `${fmt.x(curlMs / nodeMs)} (${fmt.mbps(mbps(FILE_BYTES, nodeMs))} vs ${fmt.mbps(mbps(FILE_BYTES, curlMs))})`, '>= 0.8x', curlMs / nodeMs >= 0.8)
    }
  }
  for (const seeders of [1, 4]) {
    const both = good(find('both', seeders))
    if (both != null) target('b', `native + HTTP (default), ${seeders} seeder(s), end-to-end`, fmt.mbps(mbps(FILE_BYTES, scenarioStats(both).total)), '-', undefined)
  }
  const limited = find('both', 4, true)
  const limitedOk = good(limited)
  if (limitedOk != null) {
    const aggregate = FILE_BYTES / (scenarioStats(limitedOk).transfer / 1000)
    const ratio = aggregate / RATE
    target('c', `4 seeders limited to R = ${RATE / MiB} MiB/s each, aggregate during transfer`, `${ratio.toFixed(2)} R (${fmt.mbps(aggregate / MB)})`, '>= 3.6 R', ratio >= 3.6)
  } else target('c', '4 rate-limited seeders', `failed: ${limited?.error ?? 'not run'}`, '>= 3.6 R', false)
  const network = results.network
  if (network != null && network.ttfb.length > 0) {
    const n = `${network.ttfb.length}/${network.retrievals} retrievals`
    target('d', `10 nodes, 1 MiB: time to first byte p50 / p95 (${n})`, `${fmt.ms(percentile(network.ttfb, 50))} / ${fmt.ms(percentile(network.ttfb, 95))}`, 'p50 < 500 ms', percentile(network.ttfb, 50) < 500)
    target('d', `10 nodes, 1 MiB: time to completion p50 / p95 (${n})`, `${fmt.ms(percentile(network.completion, 50))} / ${fmt.ms(percentile(network.completion, 95))}`, 'p50 < 500 ms', percentile(network.completion, 50) < 500)
    if (network.failures.length > 0) target('d', 'failed retrievals', `${network.failures.length}`, '0', false)
  } else target('d', '10-node network', `failed: ${results.networkError ?? 'no retrieval succeeded'}`, 'p50 < 500 ms', false)
  const peaks = results.scenarios.filter(ok).map(s => ({ s, peak: scenarioStats(s).peak }))
  if (peaks.length > 0) {
    const worst = peaks.reduce((a, b) => b.peak > a.peak ? b : a)
    target('e', `downloader peak RSS (VmHWM) during a ${SIZE} download, worst scenario`, `${fmt.mb(worst.peak)} (${worst.s.label}, ${worst.s.seeders} seeder(s)${worst.s.limited ? ', limited' : ''})`, '< 200 MB', worst.peak < 200 * MB)
  }
  for (const scenario of results.scenarios.filter(s => s.mode !== 'both' && ok(s))) {
    const restricted = scenarioStats(scenario).restricted
    if (restricted === false) target('-', `transport restriction (${scenario.label}, ${scenario.seeders} seeder(s))`, 'other transport carried bytes', 'CHIRAL_DOWNLOAD_TRANSPORTS honoured', false)
  }

  const m = results.machine
  const table = (header: string[], body: string[][]): string =>
    [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...body.map(r => `| ${r.join(' | ')} |`)].join('\n')

  const detail = results.scenarios.map(s => {
    if (!ok(s)) return [s.label, String(s.seeders) + (s.limited ? ` x ${RATE / MiB} MiB/s` : ''), `failed: ${(s.error ?? 'not run').replace(/\|/g, '/').slice(0, 200)}`, '', '', '', '', '', '', '', '', '']
    const st = scenarioStats(s)
    return [
      s.label,
      String(s.seeders) + (s.limited ? ` x ${RATE / MiB} MiB/s` : ''),
      s.runs.map(r => (r.totalMs / 1000).toFixed(2)).join(', '),
      fmt.mbps(mbps(FILE_BYTES, st.total)),
      fmt.mbps(mbps(FILE_BYTES, st.transfer)),
      fmt.ms(st.ttfb),
      fmt.ms(st.finish),
      `${fmt.mb(st.native)} / ${fmt.mb(st.http)}`,
      String(st.seeders),
      `${fmt.mb(st.rssBefore)} / ${fmt.mb(st.peak)}`,
      `${st.cpuDownloader.toFixed(2)} / ${st.cpuSeeders.toFixed(2)}`,
      st.foreign.toFixed(2)
    ]
  })
  const baseline = [
    [`\`sha256sum\` ${SIZE}`, results.sha.map(ms => (ms / 1000).toFixed(2)).join(', '), fmt.mbps(mbps(FILE_BYTES, shaMs))],
    ['`chiral add` (CLI, wall)', results.cliAdd.map(ms => (ms / 1000).toFixed(2)).join(', '), fmt.mbps(mbps(FILE_BYTES, cliMs))],
    ['POST /api/files', results.apiAdd.map(ms => (ms / 1000).toFixed(2)).join(', '), fmt.mbps(mbps(FILE_BYTES, apiMs))],
    [`\`curl -o\` from ${results.staticServer}`, results.curl.map(ms => (ms / 1000).toFixed(2)).join(', '), fmt.mbps(mbps(FILE_BYTES, curlMs))]
  ]
  const accounting = results.delayAccounting
  const referenceRows = (row: string, server: string, runs: Array<{ curl: ProcessStats, server: ProcessStats }>): string[][] => runs.length === 0
    ? []
    : [
        statsRow(row, '`curl -o`', medianStats(runs.map(r => r.curl), median), accounting),
        statsRow(row, server, medianStats(runs.map(r => r.server), median), accounting)
      ]
  const whereTimeGoes = [
    ...referenceRows(`\`curl -o\` from ${results.staticServer.split(' (')[0] ?? ''}`, 'nginx worker', results.curlStats),
    ...referenceRows('`curl -o` from a chiral seeder', 'seeder', results.curlFromNodeStats),
    ...results.scenarios.filter(ok).flatMap(s => {
      const st = scenarioStats(s)
      const row = `${s.label}, ${s.seeders} seeder(s)${s.limited ? ` x ${RATE / MiB} MiB/s` : ''}`
      return [statsRow(row, 'downloader', st.downloaderStats, accounting), statsRow(row, s.seeders === 1 ? 'seeder' : 'all seeders', st.seedersStats, accounting)]
    })
  ]
  const net = results.network
  const networkSection = net == null || net.ttfb.length === 0
    ? `Failed: ${results.networkError ?? 'no retrieval succeeded'}`
    : [
        table(['', 'p50', 'p95', 'min', 'max'], [
          ['time to first byte', fmt.ms(percentile(net.ttfb, 50)), fmt.ms(percentile(net.ttfb, 95)), fmt.ms(Math.min(...net.ttfb)), fmt.ms(Math.max(...net.ttfb))],
          ['time to completion', fmt.ms(percentile(net.completion, 50)), fmt.ms(percentile(net.completion, 95)), fmt.ms(Math.min(...net.completion)), fmt.ms(Math.max(...net.completion))]
        ]),
        '',
        `${net.ttfb.length} of ${net.retrievals} retrievals succeeded${net.failures.length > 0 ? `; failures: ${net.failures.join('; ')}` : ''}.`,
        '',
        table(['File (seeded on)', ...FETCHER_OFFSETS.map((_, i) => `fetch ${i + 1}: first byte / completed (seeders found)`)],
          net.byFile.map(row => [row.file, ...row.fetches]))
      ].join('\n')

  const markdown = `# Benchmarks

Measured by \`npm run bench\` (\`scripts/bench.ts\`): real \`chiral daemon\` processes on 127.0.0.1, the real
CLI, \`curl\`, \`sha256sum\` and a static file server, all in one run, one measurement at a time.
Throughput numbers are the median of ${REPS} runs; MB = 10^6 bytes, MiB = 2^20 bytes.

- Date: ${m.date ?? ''}; bench wall time ${fmt.s(results.wallMs)}
- Machine: ${m.nproc ?? '?'} CPUs (${m.cpu ?? '?'}), ${m.memory ?? '?'} memory, Linux ${m.kernel ?? '?'}
- Software: Node ${m.node ?? '?'}; ${m.curl ?? ''}; ${m.sha256sum ?? ''}; ${results.staticServer}
- Code: commit ${m.commit ?? '?'}
- Other processes (not the bench or its children) used a median of ${median(results.foreign).toFixed(2)} and at most
  ${Math.max(0, ...results.foreign).toFixed(2)} cores during the measurements; before each one the bench waited for them to go
  quiet (< 0.15 cores), ${fmt.s(results.quietWaitMs)} in all (budget ${QUIET_WAIT_BUDGET_MS / 1000} s). Load average at start ${m.loadStart ?? '?'}, at end ${m.loadEnd ?? '?'}.

## Targets

${table(['', 'Metric', 'Measured', 'Target', 'Met'], rows)}

## Hashing and the plain-HTTP baseline (${SIZE}, page-cached)

${table(['Command', 'Runs (s)', 'Median throughput'], baseline)}

## ${SIZE} downloads

A fresh downloader daemon per row, restricted with \`CHIRAL_DOWNLOAD_TRANSPORTS\`, bootstrapped to seeder 1.
Time runs from \`POST /api/downloads\` until \`GET /api/downloads/:cid\` (polled every ${THROUGHPUT_POLL_MS} ms) says
\`completed\`: discovery, manifest, transfer (every chunk checked on the chain of whole-file SHA-256 states, so the
last chunk's check is the whole-file check) and fsync. *Transfer* is first byte to last byte; *first byte* is discovery
plus the first chunk; *finish* is fsync + seeding.
Each download is checked with \`sha256sum\`, then withdrawn (\`POST /api/files/:cid/stop\`) and deleted so it never
becomes an extra seeder. Peak RSS is the downloader's VmHWM, reset (\`/proc/<pid>/clear_refs\`) before each download.
*RSS before* is the downloader's VmRSS when the download starts (an idle daemon). *CPU* is the user + system time
the downloader and all four seeder daemons (serving or not) used from POST to completed, median of the runs; on
2 cores, their sum over 2 is a floor for the time. *Other load* is the CPU that
processes outside the bench used during the run, in cores (max over the runs). Rate-limited seeders get
\`PATCH /api/settings/limits {maxUploadRate: R}\` (the same limiter \`--max-upload-rate\` sets; it covers both transports);
their ratio uses the transfer phase, since discovery and verification do not depend on the limit.

${table(['Transports', 'Seeders', 'Runs (s)', 'End-to-end', 'Transfer', 'First byte', 'Finish', 'Bytes native / HTTP', 'Seeders used', 'RSS before / peak', 'CPU s, downloader / seeders', 'Other load (cores, max)'], detail)}

## Where the time goes (${SIZE} transfers, median run)

Counters from \`/proc/<pid>/stat\`, \`status\` and \`schedstat\` of each process and its threads, read before and after
each transfer (curl's own through GNU \`time\`, since it has exited). *CPU by thread* splits user + system seconds into
the main JavaScript thread, libuv's pool (hashing, file reads and the downloader's writes; the daemon names these
threads), and V8's helper threads (garbage collection, compilation) with Node's few others. *Run-queue wait* is time runnable threads waited for a core. *Block I/O wait*
is the kernel's delay accounting (${accounting ? 'on for this run' : 'off: the bench could not turn it on, it needs root'}). *All seeders*
adds up the four seeder daemons. On 2 cores, CPU seconds of everything over 2 is a floor for the time.

${table(['Transfer', 'Process', 'CPU s, user / system', 'CPU s by thread: main / libuv pool / V8 and other', 'Page faults, minor / major', 'Context switches, voluntary / involuntary', 'Run-queue wait s', 'Block I/O wait s'], whereTimeGoes)}

## Time to first byte in a 10-node network (1 MiB files)

${NETWORK_NODES} daemons, nodes 1-${NETWORK_NODES - 1} bootstrapped to node 0 (star). ${SMALL_SEEDS.length} distinct 1 MiB files, each added on one
node (${SMALL_SEEDS.join(', ')}) and fetched one after another by ${FETCHER_OFFSETS.length} other nodes, which keep seeding what they fetched.
First byte = \`POST /api/downloads\` until \`GET\` shows \`bytesDone > 0\`, polled every ${LATENCY_POLL_MS} ms; completion = \`completed\`
(verified, written, seeding). Percentiles are nearest-rank. The last table lists the retrievals in order; each
fetcher seeds what it fetched, so later fetchers find more seeders.

${networkSection}
${results.errors.length > 0 ? `\n## Errors\n\n${results.errors.map(e => `- ${e}`).join('\n')}\n` : ''}`
  return { markdown, missed }
}

const HISTORY_MARKER = '<!-- bench-history -->'
const RUN_MARKER = '<!-- bench-run -->'

/**
 * The "Earlier runs" section of a new BENCHMARKS.md: the previous report's machine lines and
 * targets table first, then the runs the previous report already kept, so every run's table
 * stays with the machine it was measured on.
 */
function earlierRuns (previous: string): string {
  const end = previous.search(/^<!-- chain-bench -->$/m)
  const latest = end < 0 ? previous : previous.slice(0, end)
  const historyStart = latest.indexOf(HISTORY_MARKER)
  const current = historyStart < 0 ? latest : latest.slice(0, historyStart)
  const kept = historyStart < 0 || latest.indexOf(RUN_MARKER, historyStart) < 0 ? '' : latest.slice(latest.indexOf(RUN_MARKER, historyStart)).trim()
  const lines = current.split('\n').filter(line => /^- (Date|Machine|Software|Code): /.test(line))
  const targets = /^## Targets\n\n([\s\S]*?)\n\n## /m.exec(current)?.[1]
  const entry = lines.length === 0 || targets == null
    ? ''
    : `${RUN_MARKER}\n### ${/^- Date: ([^;]*)/m.exec(current)?.[1] ?? 'undated'}\n\n${lines.join('\n')}\n\n${targets.trim()}`
  const entries = [entry, kept].filter(text => text !== '')
  if (entries.length === 0) return ''
  return `${HISTORY_MARKER}\n## Earlier runs\n\nThe targets of every earlier run of \`npm run bench\` with its machine, newest first.\n\n${entries.join('\n\n')}\n`
}

async function main (): Promise<number> {
  const root = mkdtempSync('/tmp/chiral-bench-')
  tempRoot = root
  chmodSync(root, 0o755) // nginx workers run as another user and must reach data/
  const data = join(root, 'data')
  const downloads = join(root, 'downloads')
  const homes = join(root, 'homes')
  mkdirSync(data, { mode: 0o755 })
  mkdirSync(downloads)
  mkdirSync(homes)
  const results: Results = { machine: {}, staticServer: '', sha: [], cliAdd: [], apiAdd: [], curl: [], curlFromNode: [], curlStats: [], curlFromNodeStats: [], delayAccounting: false, scenarios: [], errors: [], wallMs: 0, foreign: [], quietWaitMs: 0 }
  const daemons: Daemon[] = []
  let staticServer: StaticServer | undefined
  try {
    if (PROFILE) {
      await profileRun(root, data, downloads)
      return 0
    }
    results.machine = await machineInfo()
    results.delayAccounting = enableDelayAccounting()
    log(`machine: ${results.machine.nproc ?? '?'} x ${results.machine.cpu ?? '?'}, ${results.machine.memory ?? '?'}, node ${process.version}; temp dir ${root}`)
    if (Number(results.machine.loadStart?.split(' ')[0]) > 0.5) log(`warning: load average ${results.machine.loadStart ?? ''} before the bench starts; other processes will skew the numbers`)
    const file = join(data, 'a.bin')
    await writeRandomFile(file, FILE_BYTES)
    const { hex: sha } = await sha256sum(file) // also warms the page cache
    log(`wrote ${fmt.mb(FILE_BYTES)} of random data, sha256 ${sha.slice(0, 16)}...`)

    staticServer = await startStaticServer(data, join(root, 'static'))
    results.staticServer = staticServer.kind
    const seeder1 = await Daemon.start({ name: 'seeder-1', home: join(homes, 'seeder-1') })
    daemons.push(seeder1)
    const others = await Promise.all([2, 3, 4].map(async i => await Daemon.start({ name: `seeder-${i}`, home: join(homes, `seeder-${i}`), bootstrap: seeder1.p2p })))
    daemons.push(...others)
    for (const seeder of others) await seeder.waitForPeers(1)
    log(`4 seeder daemons up; static server: ${staticServer.kind} at ${staticServer.url}`)

    // (a) hashing: sha256sum vs `chiral add` (CLI) vs POST /api/files, interleaved.
    let cid = ''
    for (let i = 0; i < REPS; i++) {
      await load.waitForQuiet(log)
      const shaRun = await load.measure(async () => await sha256sum(file))
      if (shaRun.value.hex !== sha) throw new Error('sha256sum changed between runs')
      results.sha.push(shaRun.value.ms)
      await load.waitForQuiet(log)
      const cli = await load.measure(async () => await seeder1.cli(['add', file]))
      cid = cidOf(cli.value.stdout)
      checkCid(cid, sha)
      results.cliAdd.push(cli.value.ms)
      await load.waitForQuiet(log)
      const api = await load.measure(async () => {
        const started = performance.now()
        const { body } = await seeder1.api<{ cid: string }>('POST', '/api/files', { path: file })
        return { ms: performance.now() - started, cid: body.cid }
      })
      results.apiAdd.push(api.value.ms)
      if (api.value.cid !== cid) throw new Error(`API add gave ${api.value.cid}, CLI add gave ${cid}`)
      results.foreign.push(shaRun.foreignCores, cli.foreignCores, api.foreignCores)
      log(`(a) #${i + 1}: sha256sum ${fmt.s(shaRun.value.ms)}, chiral add ${fmt.s(cli.value.ms)}, POST /api/files ${fmt.s(api.value.ms)}; ` +
        `other processes ${shaRun.foreignCores.toFixed(2)} / ${cli.foreignCores.toFixed(2)} / ${api.foreignCores.toFixed(2)} cores`)
    }

    // (b) baseline: curl from the static server.
    for (let i = 0; i < REPS; i++) {
      const output = join(downloads, `curl-${i}.bin`)
      await load.waitForQuiet(log)
      const url = `${staticServer.url}/a.bin`
      const servingPid = staticServer.servingPid()
      const curl = await load.measure(async () => await timedCurl(url, output, servingPid))
      const ms = curl.value.ms
      results.foreign.push(curl.foreignCores)
      await verifyOutput(output, FILE_BYTES, sha)
      rmSync(output, { force: true })
      results.curl.push(ms)
      results.curlStats.push(curl.value)
      log(`(b) curl #${i + 1}: ${fmt.s(ms)} = ${fmt.mbps(mbps(FILE_BYTES, ms))}; other processes ${curl.foreignCores.toFixed(2)} cores`)
    }
    // (b) the node's HTTP server as a plain file server: curl from a seeder vs curl from the static server.
    for (let i = 0; i < REPS; i++) {
      const output = join(downloads, `curl-node-${i}.bin`)
      await load.waitForQuiet(log)
      const curl = await load.measure(async () => await timedCurl(`${seeder1.httpUrl}/chiral/v1/files/${cid}`, output, seeder1.pid))
      results.foreign.push(curl.foreignCores)
      await verifyOutput(output, FILE_BYTES, sha)
      rmSync(output, { force: true })
      results.curlFromNode.push(curl.value.ms)
      results.curlFromNodeStats.push(curl.value)
      log(`(b) curl from a chiral seeder #${i + 1}: ${fmt.s(curl.value.ms)} = ${fmt.mbps(mbps(FILE_BYTES, curl.value.ms))}; other processes ${curl.foreignCores.toFixed(2)} cores`)
    }
    await staticServer.stop()
    staticServer = undefined

    const ctx = { bootstrap: seeder1.p2p, cid, sha, homes, downloads, foreign: results.foreign, seederPids: daemons.map(daemon => daemon.pid) }
    await sleep(1000) // let the last add's record and provider publication settle
    for (const { mode, label } of MODES.filter(({ mode }) => selected(`${mode}-1`))) {
      const scenario: Scenario = { key: `${mode}-1`, label, mode, seeders: 1, limited: false, runs: [] }
      results.scenarios.push(scenario)
      log(`(b) ${label}, 1 seeder`)
      await downloadScenario(scenario, ctx)
    }

    for (const seeder of others) {
      const { body } = await seeder.api<{ cid: string }>('POST', '/api/files', { path: file })
      if (body.cid !== cid) throw new Error(`${seeder.name} computed ${body.cid}, expected ${cid}`)
    }
    await sleep(2000)
    log('file added on seeders 2-4')
    for (const { mode, label } of MODES.filter(({ mode }) => selected(`${mode}-4`))) {
      const scenario: Scenario = { key: `${mode}-4`, label, mode, seeders: 4, limited: false, runs: [] }
      results.scenarios.push(scenario)
      log(`(b) ${label}, 4 seeders`)
      await downloadScenario(scenario, ctx)
    }

    // (c) four seeders each limited to R.
    if (selected('limited-4')) {
      for (const seeder of daemons) await seeder.api('PATCH', '/api/settings/limits', { maxUploadRate: RATE })
      const limited: Scenario = { key: 'limited-4', label: 'native + HTTP (default)', mode: 'both', seeders: 4, limited: true, runs: [] }
      results.scenarios.push(limited)
      log(`(c) 4 seeders limited to ${RATE / MiB} MiB/s each`)
      await downloadScenario(limited, ctx)
      for (const seeder of daemons) await seeder.api('PATCH', '/api/settings/limits', { maxUploadRate: 0 })
    }
    await Promise.all(daemons.map(async d => { await d.stop() }))
    daemons.length = 0
    rmSync(file, { force: true })

    // (d) first byte and completion in a 10-node network.
    if (selected('network')) {
      log('(d) 10-node network')
      try {
        await latencyNetwork(root, data, downloads, results)
      } catch (err) {
        results.networkError = errorText(err)
        log(`(d) FAILED: ${results.networkError}`)
      }
    }
  } catch (err) {
    results.errors.push(errorText(err))
    log(`FAILED: ${errorText(err)}`)
    for (const daemon of daemons) log(daemon.logs())
  } finally {
    await staticServer?.stop().catch(() => {})
    await Promise.all(daemons.map(async d => { await d.stop().catch(() => {}) }))
    await killAll()
    if (process.env.BENCH_KEEP_TMP === '1') log(`kept ${root}`)
    else rmSync(root, { recursive: true, force: true })
  }
  if (PROFILE) return 0
  results.wallMs = performance.now() - benchStarted
  results.quietWaitMs = load.waitedMs
  results.machine.loadEnd = loadAverage()
  const { markdown, missed } = render(results)
  process.stdout.write(`\n${markdown}\n`)
  if (DEFAULTS) {
    // Keep the chain section (written by bench-chain) from its marker line to the end.
    const previous = existsSync(join(REPO, 'BENCHMARKS.md')) ? readFileSync(join(REPO, 'BENCHMARKS.md'), 'utf8') : ''
    const marker = previous.search(/^<!-- chain-bench -->$/m)
    const report = `${markdown.trimEnd()}\n\n${earlierRuns(previous)}`
    writeFileSync(join(REPO, 'BENCHMARKS.md'), marker < 0 ? report : `${report.trimEnd()}\n\n${previous.slice(marker)}`)
    log(`wrote ${join(REPO, 'BENCHMARKS.md')}`)
  } else {
    log('non-default BENCH_* settings: BENCHMARKS.md left unchanged')
  }
  if (missed.length > 0) log(`targets missed:\n  ${missed.join('\n  ')}`)
  return results.errors.length > 0 ? 1 : 0
}

process.on('exit', () => { killAllNow() })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process the bench started`)
    killAll().finally(() => {
      if (tempRoot != null && process.env.BENCH_KEEP_TMP !== '1') rmSync(tempRoot, { recursive: true, force: true })
      process.exit(130)
    })
  })
}
if (!existsSync(join(REPO, 'package.json'))) throw new Error(`bench expects to run from dist/scripts in the repository, not ${REPO}`)
main().then(code => { process.exitCode = code }, err => {
  process.stderr.write(`bench failed: ${errorText(err)}\n`)
  process.exitCode = 1
})
