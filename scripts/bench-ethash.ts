/**
 * Ethash benchmark: MinerPool hashrate (one thread and all cores) against the stock
 * @ethereumjs/ethash Miner, and light verification time per block. Prints a markdown table.
 * The stock miner gets our epoch-0 cache injected, so its 15-20 s cache build is not measured.
 * Usage: node dist/scripts/bench-ethash.js [seconds per measurement, default 5]
 */
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createBlockHeader, type BlockHeader } from '@ethereumjs/block'
import { Common, Mainnet } from '@ethereumjs/common'
import { Ethash } from '@ethereumjs/ethash'
import {
  EthashCacheStore, MinerPool, cacheSize, fullSize, hashimotoLight, sealHash, seedHash, verifyPow, type LightCache
} from '../node/chain/ethash/index.js'

const SECONDS = Number(process.argv[2] ?? 5)
const WARMUP_MS = 1_000
const VERIFY_BLOCKS = 50
/** So high that no search ends early. */
const UNREACHABLE_DIFFICULTY = 1n << 200n
const common = new Common({ chain: Mainnet, hardfork: 'istanbul' })

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function poolRate (pool: MinerPool, seconds = SECONDS): Promise<number> {
  const controller = new AbortController()
  const search = pool.mine({ sealHash: new Uint8Array(32).fill(1), blockNumber: 1n, difficulty: UNREACHABLE_DIFFICULTY, signal: controller.signal })
  await sleep(WARMUP_MS)
  const startHashes = pool.totalHashes
  const started = performance.now()
  await sleep(seconds * 1000)
  const rate = ((pool.totalHashes - startHashes) * 1000) / (performance.now() - started)
  controller.abort()
  await search
  return rate
}

/**
 * Stock Ethash with our cache as its array of 64-byte items (copies: it reads items through
 * `new DataView(item.buffer)`, so views into one buffer would be misread), and loadEpoc
 * short-circuited by setting its epoch.
 */
export function stockEthash (cache: LightCache): Ethash {
  const ethash = new Ethash()
  const bytes = new Uint8Array(cache.words.buffer, cache.words.byteOffset, cache.words.byteLength)
  ethash.cache = Array.from({ length: bytes.length / 64 }, (_, i) => bytes.slice(i * 64, (i + 1) * 64))
  ethash.epoc = 0
  ethash.cacheSize = cacheSize(0)
  ethash.fullSize = fullSize(0)
  ethash.seed = seedHash(0)
  return ethash
}

export async function stockRate (ethash: Ethash, seconds = SECONDS): Promise<number> {
  const header = createBlockHeader({ number: 1n, difficulty: UNREACHABLE_DIFFICULTY }, { common })
  await ethash.getMiner(header).iterate(5)
  const miner = ethash.getMiner(header)
  let iterations = 0
  const started = performance.now()
  while (performance.now() - started < seconds * 1000) {
    await miner.iterate(5)
    iterations += 5
  }
  return (iterations * 1000) / (performance.now() - started)
}

export function sameAsStock (ethash: Ethash, cache: LightCache): boolean {
  const seal = new Uint8Array(32).fill(5)
  const nonce = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])
  const ours = hashimotoLight(cache.words, cache.fullSize, seal, nonce)
  const stock = ethash.run(seal, nonce)
  return Buffer.from(ours.mixHash).equals(stock.mix) && Buffer.from(ours.result).equals(stock.hash)
}

/** Difficulty 1 accepts any nonce, so sealing is one hash while verification still does the full work. */
export function sealedHeaders (cache: LightCache): BlockHeader[] {
  return Array.from({ length: VERIFY_BLOCKS }, (_, i) => {
    const unsealed = createBlockHeader({ number: BigInt(i + 1), difficulty: 1n, timestamp: BigInt(i) }, { common })
    const nonce = new Uint8Array(8).fill(i)
    const { mixHash } = hashimotoLight(cache.words, cache.fullSize, sealHash(unsealed), nonce)
    return createBlockHeader({ ...unsealed.toJSON(), nonce, mixHash }, { common })
  })
}

export async function medianVerifyMs (headers: BlockHeader[], caches: EthashCacheStore): Promise<number> {
  const times: number[] = []
  for (const header of headers) {
    const started = performance.now()
    if (!(await verifyPow(header, caches))) throw new Error(`sealed block ${header.number} failed verification`)
    times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] ?? Number.NaN
}

async function main (): Promise<void> {
  const cores = availableParallelism()
  const caches = new EthashCacheStore(process.env.CHIRAL_ETHASH_CACHE_DIR ?? join(tmpdir(), 'chiral-ethash-test-cache'), {
    onLoad: (event) => console.log(`epoch ${event.epoch} cache ${event.source} in ${Math.round(event.ms)} ms`)
  })
  const cache = await caches.getCache(0)
  const stock = stockEthash(cache)
  if (!sameAsStock(stock, cache)) throw new Error('MinerPool hashimoto disagrees with @ethereumjs/ethash')

  const pool = new MinerPool(caches, { threads: 1 })
  const oneThread = await poolRate(pool)
  pool.setThreads(cores)
  const allCores = await poolRate(pool)
  await pool.stop()
  const stockOne = await stockRate(stock)
  const verifyMs = await medianVerifyMs(sealedHeaders(cache), caches)

  const fmt = (n: number, digits = 1): string => n.toFixed(digits)
  console.log(`\n${SECONDS} s per hashrate measurement after ${WARMUP_MS} ms warm-up, epoch 0, ${cores} cores\n`)
  console.log('| measurement | Chiral MinerPool | stock @ethereumjs/ethash 10.0.0 | ratio |')
  console.log('|---|---|---|---|')
  console.log(`| hashrate, 1 thread | ${fmt(oneThread)} H/s | ${fmt(stockOne)} H/s | ${fmt(oneThread / stockOne)}x |`)
  console.log(`| hashrate, all ${cores} cores | ${fmt(allCores)} H/s | ${fmt(stockOne)} H/s (single-threaded only) | ${fmt(allCores / stockOne)}x |`)
  console.log(`| verifyPow, median of ${VERIFY_BLOCKS} blocks | ${fmt(verifyMs, 2)} ms | ${fmt(1000 / stockOne, 1)} ms (one stock hash) | ${fmt(1000 / stockOne / verifyMs)}x |`)
}

/** Only when run directly, so bench-chain can import the measuring functions. */
if (process.argv[1] != null && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
