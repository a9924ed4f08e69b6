import { createBlock, type Block } from '@ethereumjs/block'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { expect } from 'chai'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Chain } from '../../../node/chain/chain.js'
import { EthashCacheStore, MinerPool, sealHash, verifyPow } from '../../../node/chain/ethash/index.js'
import { createChainCommon, loadGenesis } from '../../../node/chain/genesis.js'
import { nextDifficulty } from '../../../node/chain/difficulty.js'
import { Database } from '../../../node/db/database.js'
import { silentLogger } from '../../../node/util/log.js'
import { SHARED_ETHASH_DIR } from '../helpers/daemon.js'

const COINBASE = createAddressFromString('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC')

describe('chain: genesis, difficulty rule and block validation (real proof of work)', function () {
  this.timeout(120_000)
  const caches = new EthashCacheStore(SHARED_ETHASH_DIR)
  const pool = new MinerPool(caches, { threads: 1 })
  let dir: string
  let db: Database
  let chain: Chain

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chiral-chain-test-'))
    db = new Database(dir)
    await db.open()
    chain = new Chain({ db, spec: loadGenesis('dev'), verifyPow: async header => await verifyPow(header, caches), log: silentLogger })
    await chain.open()
  })
  after(async () => {
    await pool.stop()
    await db.close()
    await rm(dir, { recursive: true, force: true })
  })

  async function mine (template: Block): Promise<Block> {
    const solution = await pool.mine({ sealHash: sealHash(template.header), blockNumber: template.header.number, difficulty: template.header.difficulty })
    if (solution == null) throw new Error('mining was aborted')
    return chain.seal(template, solution.nonce, solution.mixHash)
  }

  async function nextTemplate (): Promise<Block> {
    return (await chain.buildTemplate([], COINBASE, chain.head.header.timestamp + 2n)).block
  }

  /** Re-seals a block with one header field changed and a fresh valid proof of work. */
  async function mineVariant (template: Block, change: Record<string, unknown>): Promise<Block> {
    const data = template.toJSON()
    const variant = createBlock({ ...data, header: { ...data.header, ...change } }, { common: chain.common, setHardfork: false })
    return await mine(variant)
  }

  it('has a deterministic genesis: the same hash from a fresh database every time', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'chiral-chain-test-'))
    const otherDb = new Database(otherDir)
    await otherDb.open()
    try {
      const other = new Chain({ db: otherDb, spec: loadGenesis('dev'), verifyPow: async header => await verifyPow(header, caches), log: silentLogger })
      await other.open()
      expect(bytesToHex(other.genesisHash)).to.equal(bytesToHex(chain.genesisHash))
      const mainnet = new Chain({ db: otherDb, spec: loadGenesis('chiral'), verifyPow: async header => await verifyPow(header, caches), log: silentLogger })
      await mainnet.open().then(() => { throw new Error('opened another genesis on the same database') }, (err: Error) => {
        expect(err.message).to.match(/genesis/i)
      })
    } finally {
      await otherDb.close()
      await rm(otherDir, { recursive: true, force: true })
    }
    expect(createChainCommon(loadGenesis('chiral')).chainId()).to.equal(47474n)
    expect(createChainCommon(loadGenesis('dev')).chainId()).to.equal(47475n)
  })

  it('imports a mined block and moves the head', async () => {
    const block = await mine(await nextTemplate())
    expect(await chain.importBlock(block)).to.equal('imported-head')
    expect(chain.head.header.number).to.equal(1n)
    expect(await chain.importBlock(block)).to.equal('known')
  })

  it('rejects a block whose nonce was tampered with', async () => {
    const block = await mine(await nextTemplate())
    const nonce = block.header.nonce.slice()
    nonce[7] = (nonce[7] as number) ^ 0x01
    const tampered = chain.seal(block, nonce, block.header.mixHash)
    const error = await chain.importBlock(tampered).then(() => undefined, (err: Error) => err)
    expect(error?.message).to.match(/invalid proof of work/)
  })

  it('rejects a block with a difficulty other than the rule gives, even with valid proof of work for it', async () => {
    const template = await nextTemplate()
    const expected = nextDifficulty(chain.head.header, template.header.timestamp, { targetBlockTimeSeconds: 2, minimum: 16n, adjustmentDivisor: 8n })
    expect(template.header.difficulty).to.equal(expected)
    const easier = await mineVariant(template, { difficulty: `0x${(expected - 1n).toString(16)}` })
    const error = await chain.importBlock(easier).then(() => undefined, (err: Error) => err)
    expect(error?.message).to.match(/difficulty/)
  })

  it('rejects a block whose state root does not match executing it, even with valid proof of work', async () => {
    const template = await nextTemplate()
    const wrongRoot = await mineVariant(template, { stateRoot: bytesToHex(hexToBytes(`0x${'11'.repeat(32)}`)) })
    const error = await chain.importBlock(wrongRoot).then(() => undefined, (err: Error) => err)
    expect(error?.message).to.match(/stateRoot/i)
    expect(chain.head.header.number).to.equal(1n)
  })

  it('moves difficulty toward the target block time, also at small difficulties', () => {
    const rule = { targetBlockTimeSeconds: 10, minimum: 16n, adjustmentDivisor: 8n }
    expect(nextDifficulty({ difficulty: 1000n, timestamp: 0n }, 1n, rule)).to.equal(1000n + 1000n * 9n / 80n)
    expect(nextDifficulty({ difficulty: 1000n, timestamp: 0n }, 30n, rule)).to.equal(1000n - 1000n * 20n / 80n)
    expect(nextDifficulty({ difficulty: 1000n, timestamp: 0n }, 10n, rule)).to.equal(1000n)
    expect(nextDifficulty({ difficulty: 20n, timestamp: 0n }, 9n, rule)).to.equal(21n)
    expect(nextDifficulty({ difficulty: 16n, timestamp: 0n }, 100n, rule)).to.equal(16n)
  })
})
