/**
 * Chain benchmark: Ethash hashrate against the stock @ethereumjs/ethash miner, block verification
 * time, transaction latency and average block time on the default genesis, and sync import rate.
 * Writes its section into BENCHMARKS.md after the `<!-- chain-bench -->` line.
 * Usage: node dist/scripts/bench-chain.js (after npm run build)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { availableParallelism, cpus, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Wallet } from 'ethers'
import { EthashCacheStore, MinerPool } from '../node/chain/ethash/index.js'
import { loadGenesis } from '../node/chain/genesis.js'
import { measureContractGas, type ContractGas } from './bench-contract-gas.js'
import { writeBenchSection } from './bench/sections.js'
import { medianVerifyMs, poolRate, sameAsStock, sealedHeaders, stockEthash, stockRate } from './bench-ethash.js'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const MAIN = join(REPO, 'dist', 'node', 'cli', 'main.js')
const ETHASH_DIR = join(tmpdir(), 'chiral-ethash-test-cache')
const MARKER = '<!-- chain-bench -->'
const HASH_SECONDS = 5
const TX_SAMPLES = 20
const SYNC_BLOCKS = 150
const BLOCK_TIME_WINDOW = 200
/** Blocks the 1-thread default-genesis miner runs to; the window is the last 200, past the difficulty ramp-up. */
const BLOCK_TIME_RUN = 220
const BLOCK_TIME_MIN_RUN = 210
const DEFAULT_GENESIS = loadGenesis('chiral')
const TARGET_BLOCK_S = DEFAULT_GENESIS.targetBlockTimeSeconds
/** The bound on the average block time over 200 blocks. */
const BLOCK_TIME_TOLERANCE = 0.2
/** Hard cap on the node phase: 220 default-genesis blocks take ~18 min at the target. */
const NODE_PHASE_MS = 26 * 60_000

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const log = (msg: string): void => { process.stderr.write(`[bench-chain ${new Date().toISOString().slice(11, 19)}] ${msg}\n`) }
const errorText = (err: unknown): string => err instanceof Error ? err.message : String(err)
const fmt = (n: number, digits = 1): string => Number.isFinite(n) ? n.toFixed(digits) : 'n/a'
const met = (ok: boolean): string => ok ? '**met**' : '**not met**'

function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

const children = new Set<ChildProcess>()
const homes: string[] = []

interface Daemon {
  name: string
  p2p: string
  rpcUrl: string
  api: <T>(method: string, path: string, body?: unknown) => Promise<T>
  rpc: <T>(method: string, params?: unknown[]) => Promise<T>
  head: () => Promise<number>
  stop: () => Promise<void>
  logs: () => string
}

async function startDaemon (name: string, args: string[]): Promise<Daemon> {
  const home = mkdtempSync(join(tmpdir(), `chiral-bench-chain-${name}-`))
  homes.push(home)
  const env: NodeJS.ProcessEnv = { ...process.env, CHIRAL_ETHASH_DIR: ETHASH_DIR }
  delete env.CHIRAL_WALLET_PASSWORD
  const child = spawn(process.execPath, [MAIN, '--home', home, 'daemon', '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', '0',
    '--http-port', '0', '--http-host', '127.0.0.1', '--rpc-port', '0', ...args, '--log-level', 'warn'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  let exited = false
  child.on('exit', () => { exited = true; children.delete(child) })
  const stop = async (): Promise<void> => {
    if (exited) return
    child.kill('SIGTERM')
    for (let i = 0; i < 100 && !exited; i++) await sleep(100)
    if (!exited) child.kill('SIGKILL')
    for (let i = 0; i < 20 && !exited; i++) await sleep(100)
  }
  const started = Date.now()
  let p2p: string | undefined
  while (p2p == null || !existsSync(join(home, 'api.json')) || !existsSync(join(home, 'api-token'))) {
    if (exited) throw new Error(`${name} exited during start:\n${output}`)
    if (Date.now() - started > 90_000) { await stop(); throw new Error(`${name} did not start in 90 s:\n${output}`) }
    p2p = /^\s*p2p\s+(\/ip4\/\S+)/m.exec(output)?.[1]
    await sleep(100)
  }
  const { url } = JSON.parse(readFileSync(join(home, 'api.json'), 'utf8')) as { url: string }
  const token = readFileSync(join(home, 'api-token'), 'utf8').trim()
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body)
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${name} ${method} ${path}: ${res.status} ${text}`)
    return (text === '' ? undefined : JSON.parse(text)) as T
  }
  let status: { urls: { rpc: string } } | undefined
  while (status == null) {
    try { status = await api<{ urls: { rpc: string } }>('GET', '/api/status') } catch (err) {
      if (exited || Date.now() - started > 90_000) { await stop(); throw new Error(`${name} API not ready: ${errorText(err)}\n${output}`, { cause: err }) }
      await sleep(100)
    }
  }
  const rpcUrl = status.urls.rpc
  let id = 0
  const rpc = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }) })
    const reply = await res.json() as { result?: T, error?: { message: string } }
    if (reply.error != null) throw new Error(`${name} ${method}: ${reply.error.message}`)
    return reply.result as T
  }
  const head = async (): Promise<number> => Number(await rpc<string>('eth_blockNumber'))
  return { name, p2p, rpcUrl, api, rpc, head, stop, logs: () => output }
}

async function waitForHead (daemon: Daemon, target: number, deadline: number): Promise<number> {
  let head = await daemon.head()
  while (head < target && Date.now() < deadline) {
    await sleep(250)
    head = await daemon.head()
  }
  return head
}

interface Results {
  hash?: { oneThread: number, allCores: number, stockOne: number, cores: number }
  verifyMs?: number
  tx?: { samples: number[], walletAddress: string, fundedAt: number }
  gas?: ContractGas
  sync?: { blocks: number, totalMs: number, afterApiMs: number, minerThreads: number }
  blockTime?: { from: number, to: number, averageS: number, medianS: number, minS: number, maxS: number }
  errors: string[]
}

async function measureHashing (results: Results): Promise<void> {
  const cores = availableParallelism()
  const caches = new EthashCacheStore(ETHASH_DIR, { onLoad: (e) => { log(`epoch ${e.epoch} cache ${e.source} in ${Math.round(e.ms)} ms`) } })
  const cache = await caches.getCache(0)
  const stock = stockEthash(cache)
  if (!sameAsStock(stock, cache)) throw new Error('MinerPool hashimoto disagrees with @ethereumjs/ethash')
  const pool = new MinerPool(caches, { threads: 1 })
  const oneThread = await poolRate(pool, HASH_SECONDS)
  pool.setThreads(cores)
  const allCores = await poolRate(pool, HASH_SECONDS)
  await pool.stop()
  const stockOne = await stockRate(stock, HASH_SECONDS)
  results.hash = { oneThread, allCores, stockOne, cores }
  log(`hashrate: 1 thread ${fmt(oneThread)} H/s, ${cores} threads ${fmt(allCores)} H/s, stock ${fmt(stockOne)} H/s`)
  results.verifyMs = await medianVerifyMs(sealedHeaders(cache), caches)
  log(`verifyPow median ${fmt(results.verifyMs, 2)} ms`)
}

/** Default genesis, one node mining with its default thread count; sequential wallet sends. */
async function measureTxLatency (results: Results, deadline: number): Promise<void> {
  const node = await startDaemon('tx', ['--genesis', 'chiral', '--mine'])
  try {
    const head = await waitForHead(node, 2, deadline)
    if (head < 2) throw new Error(`default-genesis node mined only ${head} blocks`)
    const wallet = await node.api<{ address: string }>('GET', '/api/wallet')
    const fundedAt = head
    log(`tx: node wallet ${wallet.address} funded at block ${head}`)
    const samples: number[] = []
    for (let i = 0; i < TX_SAMPLES && Date.now() < deadline; i++) {
      const to = Wallet.createRandom().address
      const started = performance.now()
      const { hash } = await node.api<{ hash: string }>('POST', '/api/wallet/send', { to, amount: '0.01' })
      let receipt: unknown = null
      while (receipt == null) {
        if (Date.now() > deadline) throw new Error(`tx ${hash} had no receipt before the deadline`)
        await sleep(100)
        receipt = await node.rpc('eth_getTransactionReceipt', [hash])
      }
      samples.push(performance.now() - started)
      log(`tx ${i + 1}/${TX_SAMPLES}: ${fmt((performance.now() - started) / 1000, 2)} s`)
    }
    results.tx = { samples, walletAddress: wallet.address, fundedAt }
  } finally {
    await node.stop()
  }
}

/** A dev-genesis miner at 2 threads mines >= 150 blocks and stops; a fresh --no-mine node syncs them. */
async function measureSync (results: Results, deadline: number): Promise<void> {
  const miner = await startDaemon('sync-miner', ['--genesis', 'dev', '--mine', '--miner-threads', '2'])
  let follower: Daemon | undefined
  try {
    const mined = await waitForHead(miner, SYNC_BLOCKS, deadline)
    if (mined < SYNC_BLOCKS) throw new Error(`sync miner reached only ${mined} blocks`)
    await miner.api('POST', '/api/mining/stop')
    await sleep(1_000)
    const target = await miner.head()
    log(`sync: miner stopped at ${target}, starting a fresh node`)
    const started = performance.now()
    follower = await startDaemon('sync-follower', ['--genesis', 'dev', '--no-mine', '--bootstrap', miner.p2p])
    const apiReady = performance.now()
    const reached = await waitForHead(follower, target, deadline)
    if (reached < target) throw new Error(`follower reached ${reached} of ${target}`)
    const done = performance.now()
    results.sync = { blocks: target, totalMs: done - started, afterApiMs: done - apiReady, minerThreads: 2 }
    log(`sync: ${target} blocks in ${fmt((done - started) / 1000, 2)} s`)
  } finally {
    await follower?.stop()
    await miner.stop()
  }
}

/** Escrow gas through the genesis predeploy on a dev-genesis node mining 1 thread. */
async function measureEscrowGas (results: Results): Promise<void> {
  const node = await startDaemon('gas', ['--genesis', 'dev', '--mine', '--miner-threads', '1'])
  try {
    results.gas = await measureContractGas(node.rpcUrl)
    log(`escrow gas: open ${results.gas.open}, redeem ${results.gas.redeemFirst}, batch of ${results.gas.batchSize} ${results.gas.batch}`)
  } finally {
    await node.stop()
  }
}

/** A default-genesis miner at 1 thread; block timestamps of the last 200 blocks of a >= 210-block run. */
async function measureBlockTime (results: Results, deadline: number): Promise<void> {
  const miner = await startDaemon('block-time', ['--genesis', 'chiral', '--mine', '--miner-threads', '1'])
  try {
    let head = await waitForHead(miner, BLOCK_TIME_RUN, deadline)
    if (head < BLOCK_TIME_MIN_RUN) throw new Error(`block-time miner reached only ${head} blocks before the deadline`)
    head = Math.min(head, BLOCK_TIME_RUN)
    const from = head - BLOCK_TIME_WINDOW
    const stamps: number[] = []
    for (let n = from; n <= head; n++) {
      const block = await miner.rpc<{ timestamp: string }>('eth_getBlockByNumber', [`0x${n.toString(16)}`, false])
      stamps.push(Number(block.timestamp))
    }
    const gaps = stamps.slice(1).map((t, i) => t - (stamps[i] ?? t))
    results.blockTime = {
      from,
      to: head,
      averageS: ((stamps.at(-1) ?? 0) - (stamps[0] ?? 0)) / BLOCK_TIME_WINDOW,
      medianS: percentile(gaps, 50),
      minS: Math.min(...gaps),
      maxS: Math.max(...gaps)
    }
    log(`block time: average ${fmt(results.blockTime.averageS, 3)} s over blocks ${from}..${head}`)
  } finally {
    await miner.stop()
  }
}

function render (results: Results, command: string, wallMs: number): string {
  const lines: string[] = []
  const cpu = cpus()[0]?.model ?? 'unknown'
  lines.push(MARKER, '', '## Chain benchmark', '')
  lines.push(`Command: \`${command}\` (part of \`npm run bench\`). Machine: ${availableParallelism()} cores (nproc), ${cpu}, Node ${process.version}. ` +
    `Date: ${new Date().toISOString()}. Wall time ${fmt(wallMs / 60_000, 1)} min.`, '')
  lines.push('| # | measurement | result | target | status |', '|---|---|---|---|---|')
  const h = results.hash
  if (h != null) {
    const ratio = h.oneThread / h.stockOne
    lines.push(`| 1 | Ethash hashrate per thread (MinerPool, 1 thread) vs stock @ethereumjs/ethash 10.0.0 miner | ${fmt(h.oneThread)} H/s vs ${fmt(h.stockOne)} H/s = **${fmt(ratio)}x** | >= 15x per thread | ${met(ratio >= 15)} |`)
    lines.push(`| 1 | Ethash hashrate total (${h.cores} threads) | ${fmt(h.allCores)} H/s (${fmt(h.allCores / h.cores)} H/s per thread, ${fmt(h.allCores / h.stockOne)}x one stock thread) | — | — |`)
  } else lines.push('| 1 | Ethash hashrate | not measured | >= 15x per thread | **not met** |')
  if (results.verifyMs != null) lines.push(`| 2 | block PoW verification (verifyPow, median of 50 sealed headers) | ${fmt(results.verifyMs, 2)} ms | <= 20 ms | ${met(results.verifyMs <= 20)} |`)
  else lines.push('| 2 | block PoW verification | not measured | <= 20 ms | **not met** |')
  const tx = results.tx
  if (tx != null && tx.samples.length > 0) {
    const p50 = percentile(tx.samples, 50) / 1000
    const p95 = percentile(tx.samples, 95) / 1000
    lines.push(`| 3 | tx submit -> receipt, default genesis (\`--genesis chiral\`, ${TARGET_BLOCK_S} s target), 1 node mining 1 thread, ${tx.samples.length} sequential samples | median ${fmt(p50, 2)} s, p95 ${fmt(p95, 2)} s (min ${fmt(Math.min(...tx.samples) / 1000, 2)}, max ${fmt(Math.max(...tx.samples) / 1000, 2)}) | p95 <= 30 s | ${met(p95 <= 30 && tx.samples.length >= 10)} |`)
  } else lines.push('| 3 | tx submit -> receipt, default genesis | not measured | p95 <= 30 s | **not met** |')
  const s = results.sync
  if (s != null) {
    lines.push(`| 4 | sync: fresh \`--no-mine\` node joins a dev-genesis miner (${s.minerThreads} threads) that mined ${s.blocks} blocks | ${fmt(s.totalMs / 1000, 2)} s from process start to the miner's head = **${fmt(s.blocks / (s.totalMs / 1000))} blocks/s** (${fmt(s.blocks / (s.afterApiMs / 1000))} blocks/s from API ready, ${fmt(s.afterApiMs / 1000, 2)} s) | — (reported) | — |`)
  } else lines.push('| 4 | sync import rate | not measured | — | — |')
  const b = results.blockTime
  if (b != null) {
    const deviation = ((b.averageS - TARGET_BLOCK_S) / TARGET_BLOCK_S) * 100
    lines.push(`| 5 | average block time, default genesis (${TARGET_BLOCK_S} s target), 1 miner at 1 thread, blocks ${b.from}..${b.to} (last ${BLOCK_TIME_WINDOW} of a ${b.to}-block run) | **${fmt(b.averageS, 3)} s** (deviation ${deviation >= 0 ? '+' : ''}${fmt(deviation, 1)}%; median gap ${b.medianS} s, min ${b.minS} s, max ${b.maxS} s) | ${TARGET_BLOCK_S} s | ${met(Math.abs(deviation) <= BLOCK_TIME_TOLERANCE * 100)} (within ${BLOCK_TIME_TOLERANCE * 100}%) |`)
  } else lines.push(`| 5 | average block time, default genesis | not measured | ${TARGET_BLOCK_S} s | **not met** |`)
  const g = results.gas
  if (g != null) {
    lines.push(`| 6 | escrow gas on a dev-genesis node (ChiralEscrow predeploy), receipts of ${g.batchSize} leechers | open ${g.open}, top-up ${g.topUp}, first redeem ${g.redeemFirst}, later redeem ${g.redeemLater}, redeemBatch of ${g.batchSize}: ${g.batch} (${g.batch / BigInt(g.batchSize)} per receipt) | — (reported) | — |`)
  } else lines.push('| 6 | escrow gas | not measured | — | — |')
  lines.push('')
  lines.push('Notes:', '')
  lines.push(`- (1)/(2) reuse \`scripts/bench-ethash.ts\`: ${HASH_SECONDS} s per hashrate measurement after 1 s warm-up, epoch 0; the stock miner gets our epoch-0 cache injected, so its cache build is not measured. ` +
    'Verification is `verifyPow` (light hashimoto over the cached epoch) on headers sealed at difficulty 1.')
  lines.push('- (3) latency is timed from `POST /api/wallet/send` (the node signs and submits the transaction to its pool, as `eth_sendRawTransaction` does) until `eth_getTransactionReceipt` returns a receipt, polled every 100 ms; ' +
    `one transaction in flight. On the default genesis only the node wallet is funded (by mining), so the node mined ${tx?.fundedAt ?? 2}+ blocks first.`)
  lines.push('- (3), (4) and (5) ran concurrently on the same machine (three to four mining threads on ' + String(availableParallelism()) + ' cores); difficulty retargets to each chain\'s hashrate, so block times are still governed by the targets.')
  lines.push(`- (3): with exponentially distributed PoW block intervals, the wait for the next block has p95 = 3x the mean, which is why the default genesis targets ${TARGET_BLOCK_S} s.`)
  if (results.errors.length > 0) lines.push('', 'Errors:', '', ...results.errors.map((e) => `- ${e.split('\n')[0] ?? e}`))
  return lines.join('\n') + '\n'
}

function writeSection (section: string): void {
  const path = join(REPO, 'BENCHMARKS.md')
  writeBenchSection(path, MARKER, section)
  log(`wrote ${path}`)
}

async function main (): Promise<number> {
  const started = performance.now()
  mkdirSync(ETHASH_DIR, { recursive: true })
  const results: Results = { errors: [] }
  const guard = async (label: string, task: () => Promise<void>): Promise<void> => {
    try { await task() } catch (err) {
      results.errors.push(`${label}: ${errorText(err)}`)
      log(`${label} FAILED: ${errorText(err)}`)
    }
  }
  try {
    log('(1)(2) hashrate and verification')
    await guard('hashrate/verification', async () => { await measureHashing(results) })
    const deadline = Date.now() + NODE_PHASE_MS
    log('(3)(4)(5)(6) nodes')
    await Promise.all([
      guard('tx latency', async () => { await measureTxLatency(results, deadline) }),
      guard('sync', async () => { await measureSync(results, deadline) }),
      guard('block time', async () => { await measureBlockTime(results, deadline) }),
      guard('escrow gas', async () => { await measureEscrowGas(results) })
    ])
  } finally {
    await killAll()
  }
  const section = render(results, 'node dist/scripts/bench-chain.js', performance.now() - started)
  process.stdout.write(`\n${section}`)
  writeSection(section)
  return results.errors.length > 0 ? 1 : 0
}

async function killAll (): Promise<void> {
  for (const child of children) child.kill('SIGTERM')
  for (let i = 0; i < 50 && children.size > 0; i++) await sleep(100)
  for (const child of children) child.kill('SIGKILL')
  for (const home of homes) rmSync(home, { recursive: true, force: true })
}

process.on('exit', () => { for (const child of children) child.kill('SIGKILL') })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping every process the bench started`)
    killAll().finally(() => process.exit(130))
  })
}
main().then((code) => { process.exitCode = code }, (err) => {
  process.stderr.write(`bench-chain failed: ${errorText(err)}\n`)
  process.exitCode = 1
})
