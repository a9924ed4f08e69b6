import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBlock, createBlockHeader, createBlockHeaderFromRLP, type BlockHeader } from '@ethereumjs/block'
import { createBlockchain } from '@ethereumjs/blockchain'
import { Common, Hardfork, Mainnet, Sepolia, type ChainConfig } from '@ethereumjs/common'
import { Ethash } from '@ethereumjs/ethash'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { expect } from 'chai'
import {
  EthashCacheStore, InvalidDifficultyError, InvalidProofOfWorkError, MinerPool,
  cacheSize, epochOf, fullSize, hashimotoLight, sealHash, seedHash, verifyPow, type CacheLoadEvent
} from '../../../node/chain/ethash/index.js'
import { ChiralConsensus } from '../../../node/chain/consensus.js'
import { nextDifficulty } from '../../../node/chain/difficulty.js'
import { keccak256 } from '../../../node/chain/ethash/keccak.js'
import { REPO_ROOT } from '../helpers/paths.js'

interface HeaderVector { name: string, chain: 'mainnet' | 'sepolia', hardfork: string, rlp: string, hash: string, sealHash: string }
interface OfficialVector {
  name: string, headerHash: string, nonce: string, mixHash: string, result: string,
  cacheSize: number, fullSize: number, seed: string, cacheHash: string
}
interface Vectors { headers: HeaderVector[], official: OfficialVector[] }

const vectors = JSON.parse(
  await readFile(join(REPO_ROOT, 'test/node/chain/fixtures/ethash-vectors.json'), 'utf8')
) as Vectors
/** Shared with other test runs on this machine so epoch 0 (and 471) are built once. */
const CACHE_DIR = join(tmpdir(), 'chiral-ethash-test-cache')
const loads: CacheLoadEvent[] = []
const caches = new EthashCacheStore(CACHE_DIR, { maxInMemory: 3, onLoad: (event) => loads.push(event) })

function vectorHeader (name: string): BlockHeader {
  const vector = vectors.headers.find((v) => v.name === name)
  if (vector === undefined) throw new Error(`no vector ${name}`)
  const common = new Common({ chain: vector.chain === 'mainnet' ? Mainnet : Sepolia, hardfork: vector.hardfork })
  const header = createBlockHeaderFromRLP(hexToBytes(vector.rlp as `0x${string}`), { common })
  expect(bytesToHex(header.hash())).to.equal(vector.hash)
  return header
}

function withFields (header: BlockHeader, fields: Record<string, unknown>): BlockHeader {
  return createBlockHeader({ ...header.toJSON(), ...fields }, { common: header.common })
}

/** The chain's own setup (see chain notes §1): every fork through Cancun at block 0, minimum difficulty 1. */
function chiralCommon (genesisDifficulty: number): Common {
  const hardforks = ['chainstart', 'homestead', 'tangerineWhistle', 'spuriousDragon', 'byzantium', 'constantinople',
    'petersburg', 'istanbul', 'muirGlacier', 'berlin', 'london', 'arrowGlacier', 'grayGlacier', 'shanghai', 'cancun']
  const chain: ChainConfig = {
    name: 'ethash-test',
    chainId: 424242,
    defaultHardfork: Hardfork.Cancun,
    genesis: { gasLimit: 30_000_000, difficulty: genesisDifficulty, nonce: '0x0000000000000000', extraData: '0x', timestamp: '0x0' },
    hardforks: hardforks.map((name) => ({ name, block: 0 })),
    bootstrapNodes: [],
    consensus: { type: 'pow', algorithm: 'ethash', ethash: {} }
  }
  return new Common({
    chain,
    hardfork: Hardfork.Cancun,
    params: { cancun: { minimumDifficulty: 1, difficultyBoundDivisor: 8 } }
  })
}

describe('ethash', function () {
  this.timeout(60_000)

  before(async function () {
    // Built on first run (a few seconds), read from disk afterwards.
    await caches.getCache(0)
  })

  describe('seal hash', () => {
    for (const name of ['mainnet-1', 'sepolia-1', 'mainnet-14151203']) {
      it(`matches geth for ${name}`, () => {
        const header = vectorHeader(name)
        const vector = vectors.headers.find((v) => v.name === name)
        expect(bytesToHex(sealHash(header))).to.equal(vector?.sealHash)
      })
    }

    it('differs from @ethereumjs/ethash 10.0.0 for London headers, whose last two fields it drops', () => {
      const header = vectorHeader('sepolia-1')
      expect(bytesToHex(new Ethash().headerHash(header.raw()))).to.not.equal(bytesToHex(sealHash(header)))
    })
  })

  describe('light hashimoto', () => {
    it('has the spec sizes and seeds', () => {
      expect(cacheSize(0)).to.equal(16776896)
      expect(fullSize(0)).to.equal(1073739904)
      expect(cacheSize(471)).to.equal(78511424)
      expect(bytesToHex(seedHash(0))).to.equal(vectors.official[0]?.seed)
      expect(epochOf(29_999n)).to.equal(0)
      expect(epochOf(14_151_203n)).to.equal(471)
    })

    it('builds the official epoch-0 cache', async () => {
      const cache = await caches.getCache(0)
      const bytes = new Uint8Array(cache.words.buffer, cache.words.byteOffset, cache.words.byteLength)
      expect(bytesToHex(keccak256(bytes))).to.equal(vectors.official[0]?.cacheHash)
    })

    for (const vector of vectors.official) {
      it(`passes the official vector "${vector.name}"`, async () => {
        const cache = await caches.getCache(0)
        expect(cache.words.byteLength).to.equal(vector.cacheSize)
        const out = hashimotoLight(cache.words, vector.fullSize, hexToBytes(vector.headerHash as `0x${string}`), hexToBytes(vector.nonce as `0x${string}`))
        expect(bytesToHex(out.mixHash)).to.equal(vector.mixHash)
        expect(bytesToHex(out.result)).to.equal(vector.result)
      })
    }
  })

  describe('verifyPow', () => {
    it('accepts mainnet #1 (pre-London, epoch 0)', async () => {
      expect(await verifyPow(vectorHeader('mainnet-1'), caches)).to.equal(true)
    })

    it('accepts Sepolia #1 (London format, epoch 0)', async () => {
      expect(await verifyPow(vectorHeader('sepolia-1'), caches)).to.equal(true)
    })

    it('accepts mainnet #14151203 (post-London, epoch 471, 78 MB cache)', async () => {
      expect(await verifyPow(vectorHeader('mainnet-14151203'), caches)).to.equal(true)
    })

    it('rejects a tampered nonce, mixHash or difficulty', async () => {
      const header = vectorHeader('mainnet-1')
      const nonce = header.nonce.slice()
      nonce[7] = nonce[7]! ^ 1
      const mixHash = header.mixHash.slice()
      mixHash[0] = mixHash[0]! ^ 1
      expect(await verifyPow(withFields(header, { nonce }), caches)).to.equal(false)
      expect(await verifyPow(withFields(header, { mixHash }), caches)).to.equal(false)
      expect(await verifyPow(withFields(header, { difficulty: header.difficulty * 1000n }), caches)).to.equal(false)
    })

    it('accepts genesis without a proof of work', async () => {
      const common = chiralCommon(100)
      expect(await verifyPow(createBlockHeader({ number: 0n, difficulty: 100n }, { common }), caches)).to.equal(true)
    })
  })

  describe('cache store', () => {
    it('reads the stored epoch back from disk in another store instance', async () => {
      const events: CacheLoadEvent[] = []
      const reader = new EthashCacheStore(CACHE_DIR, { onLoad: (event) => events.push(event) })
      const fromDisk = await reader.getCache(0)
      const original = await caches.getCache(0)
      expect(events.map((e) => e.source)).to.deep.equal(['disk'])
      expect(Buffer.from(fromDisk.words.buffer).equals(Buffer.from(original.words.buffer))).to.equal(true)
    })

    it('rebuilds a corrupted file instead of trusting it, and rewrites it', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'chiral-ethash-corrupt-'))
      try {
        const store = new EthashCacheStore(dir)
        const file = store.fileFor(0)
        await copyFile(caches.fileFor(0), file)
        const bytes = await readFile(file)
        bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0xff
        await writeFile(file, bytes)

        const events: CacheLoadEvent[] = []
        const rebuilt = await new EthashCacheStore(dir, { onLoad: (event) => events.push(event) }).getCache(0)
        expect(events.map((e) => [e.source, e.rejected])).to.deep.equal([['built', 'checksum mismatch']])
        const original = await caches.getCache(0)
        expect(Buffer.from(rebuilt.words.buffer).equals(Buffer.from(original.words.buffer))).to.equal(true)
        expect((await readFile(file)).equals(await readFile(caches.fileFor(0)))).to.equal(true)

        await writeFile(file, bytes.subarray(0, 1000))
        const truncated: CacheLoadEvent[] = []
        await new EthashCacheStore(dir, { onLoad: (event) => truncated.push(event) }).getCache(0)
        expect(truncated[0]?.rejected).to.match(/^size 1000 instead of/)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })
  })

  describe('MinerPool and consensus', () => {
    const pool = new MinerPool(caches, { threads: 2 })
    after(() => pool.stop())

    it('mines a Cancun-format block that the blockchain accepts with validateConsensus', async () => {
      const common = chiralCommon(100)
      const rule = { targetBlockTimeSeconds: 10, minimum: 1n, adjustmentDivisor: 8n }
      const consensus = new ChiralConsensus(async header => await verifyPow(header, caches), rule)
      const blockchain = await createBlockchain({ common, validateConsensus: true, consensusDict: { ethash: consensus } })
      const genesis = blockchain.genesisBlock
      const unsealed = createBlock({
        header: {
          parentHash: genesis.hash(),
          number: 1n,
          timestamp: genesis.header.timestamp + 10n,
          gasLimit: genesis.header.gasLimit,
          baseFeePerGas: genesis.header.calcNextBaseFee(),
          difficulty: nextDifficulty(genesis.header, genesis.header.timestamp + 10n, rule)
        },
        withdrawals: []
      }, { common })
      expect(unsealed.header.raw()).to.have.length(20)
      expect(unsealed.header.difficulty).to.equal(100n)

      const solution = await pool.mine({ sealHash: sealHash(unsealed.header), blockNumber: 1n, difficulty: unsealed.header.difficulty })
      expect(solution).to.not.equal(undefined)
      const sealed = createBlock({ ...unsealed.toJSON(), header: { ...unsealed.header.toJSON(), ...solution } }, { common })
      expect(await verifyPow(sealed.header, caches)).to.equal(true)
      await blockchain.putBlock(sealed)
      expect((await blockchain.getCanonicalHeadBlock()).hash()).to.deep.equal(sealed.hash())
      expect(pool.totalHashes).to.be.greaterThan(0)

      const badNonce = sealed.header.nonce.slice()
      badNonce[0] = badNonce[0]! ^ 0x80
      const forged = createBlock({ ...sealed.toJSON(), header: { ...sealed.header.toJSON(), nonce: badNonce } }, { common })
      const powError = await blockchain.putBlock(forged).then(() => undefined, (err: unknown) => err)
      expect(powError).to.be.instanceOf(InvalidProofOfWorkError)

      const wrongDifficulty = createBlock({ ...unsealed.toJSON(), header: { ...unsealed.header.toJSON(), difficulty: 101n } }, { common })
      const difficultyError = await blockchain.putBlock(wrongDifficulty).then(() => undefined, (err: unknown) => err)
      expect(difficultyError).to.be.instanceOf(InvalidDifficultyError)
    })

    it('stops promptly on abort and when superseded', async () => {
      const hopeless = { sealHash: new Uint8Array(32).fill(9), blockNumber: 5n, difficulty: 1n << 200n }
      const controller = new AbortController()
      const first = pool.mine({ ...hopeless, signal: controller.signal })
      await new Promise((resolve) => setTimeout(resolve, 300))
      const abortedAt = performance.now()
      controller.abort()
      expect(await first).to.equal(undefined)
      expect(performance.now() - abortedAt).to.be.lessThan(50)
      await new Promise((resolve) => setTimeout(resolve, 100))
      const settled = pool.totalHashes
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(pool.totalHashes).to.equal(settled)

      const superseded = pool.mine(hopeless)
      const replacement = pool.mine({ ...hopeless, signal: AbortSignal.timeout(200) })
      expect(await superseded).to.equal(undefined)
      expect(await replacement).to.equal(undefined)
      expect(await pool.mine({ ...hopeless, signal: AbortSignal.abort() })).to.equal(undefined)
    })

    it('reports a hashrate and redistributes a running search on setThreads', async () => {
      const job = pool.mine({ sealHash: new Uint8Array(32).fill(3), blockNumber: 7n, difficulty: 1n << 200n, signal: AbortSignal.timeout(2500) })
      await new Promise((resolve) => setTimeout(resolve, 500))
      pool.setThreads(1)
      expect(pool.threads).to.equal(1)
      expect(await job).to.equal(undefined)
      expect(pool.hashrate).to.be.greaterThan(10)
      pool.setThreads(2)
    })
  })

  after(() => {
    const summary = loads.map((e) => `epoch ${e.epoch} ${e.source} in ${Math.round(e.ms)} ms`).join(', ')
    console.log(`      ethash caches: ${summary}`)
  })
})
