import { createBlock, type Block } from '@ethereumjs/block'
import { createBlockchain, type Blockchain } from '@ethereumjs/blockchain'
import type { Common } from '@ethereumjs/common'
import { createMPT } from '@ethereumjs/mpt'
import { MerkleStateManager } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address, ValueEncoding, bytesToHex, equalsBytes, type DBObject, type PrefixedHexString } from '@ethereumjs/util'
import { buildBlock, createVM, runBlock, type VM } from '@ethereumjs/vm'
import { EventEmitter } from 'node:events'
import type { Database, Table } from '../db/database.js'
import { MAX_BLOCK_TIMESTAMP_DRIFT_SECONDS } from '../payments/constants.js'
import type { Logger } from '../util/log.js'
import { Mutex } from '../util/mutex.js'
import { ChiralConsensus, type PowVerifier } from './consensus.js'
import { nextDifficulty, type DifficultyRule } from './difficulty.js'
import { ChainValidationError, UnknownParentError } from './errors.js'
import { createChainCommon, difficultyRule, genesisState, type GenesisSpec } from './genesis.js'
import { LevelChainDB } from './level-db.js'
import { toStoredReceipt, type StoredReceipt } from './receipts.js'

/** Blocks may be at most this far ahead of the local clock (payments size their expiry margins by it). */
export const MAX_FUTURE_BLOCK_SECONDS = BigInt(MAX_BLOCK_TIMESTAMP_DRIFT_SECONDS)
/**
 * The miner stamps a block at most this far ahead of its own clock. A block must be stamped at
 * least a second after its parent, so fast blocks would run ahead of the clock until peers refuse
 * them as from the future; instead the miner waits for its clock to catch up (as geth does).
 * Kept well under MAX_FUTURE_BLOCK_SECONDS, so a peer whose clock is behind ours by up to the
 * difference still accepts the block.
 */
export const MAX_MINED_AHEAD_SECONDS = 1n

export interface TxLocation { blockHash: PrefixedHexString, blockNumber: string, index: number }

export interface HeadChange {
  head: Block
  /** Blocks that left the canonical chain (a reorg), oldest first. */
  removed: Block[]
  /** Blocks that joined it, oldest first. */
  added: Block[]
}

export interface ChainEvents {
  head: [change: HeadChange]
}

export type ImportResult = 'known' | 'imported-head' | 'imported-side'

export interface ChainOptions {
  db: Database
  spec: GenesisSpec
  verifyPow: PowVerifier
  log: Logger
}

/**
 * The chain: blocks (with heaviest-total-difficulty fork choice by @ethereumjs/blockchain),
 * state (a Merkle trie that keeps every root, so any block's state can be opened), receipts
 * and a transaction index, all in the node's LevelDB. Every block is fully validated before it
 * is stored: proof of work, header rules including difficulty, and re-execution with the
 * resulting state root, receipts and gas compared against the header.
 */
export class Chain extends EventEmitter<ChainEvents> {
  readonly common: Common
  blockchain!: Blockchain
  private stateManager!: MerkleStateManager
  private vm!: VM
  private readonly consensus: ChiralConsensus
  private readonly rule: DifficultyRule
  private readonly execution = new Mutex()
  private readonly receipts: Table<StoredReceipt[]>
  private readonly txIndex: Table<TxLocation>
  private headBlock!: Block

  constructor (private readonly options: ChainOptions) {
    super()
    this.common = createChainCommon(options.spec)
    this.rule = difficultyRule(options.spec)
    this.consensus = new ChiralConsensus(options.verifyPow, this.rule)
    this.receipts = options.db.table<StoredReceipt[]>('chain-receipts')
    this.txIndex = options.db.table<TxLocation>('chain-tx-index')
  }

  get chainId (): bigint {
    return this.common.chainId()
  }

  get head (): Block {
    return this.headBlock
  }

  get genesisHash (): Uint8Array {
    return this.blockchain.genesisBlock.hash()
  }

  async open (): Promise<void> {
    const level = this.options.db.level
    const genesis = genesisState(this.options.spec)
    this.blockchain = await createBlockchain({
      common: this.common,
      db: LevelChainDB.onSublevel(level, 'chain-blocks').as<Uint8Array | string, Uint8Array | string | DBObject>(),
      genesisState: genesis,
      validateBlocks: true,
      // Proof of work is checked in importBlock before execution, so invalid blocks cost little.
      validateConsensus: false,
      consensusDict: { ethash: this.consensus }
    })
    const trie = await createMPT({
      db: LevelChainDB.onSublevel(level, 'chain-state').as<string, string | Uint8Array>(),
      useKeyHashing: true,
      valueEncoding: ValueEncoding.Bytes
    })
    this.stateManager = new MerkleStateManager({ common: this.common, trie })
    this.headBlock = await this.blockchain.getCanonicalHeadBlock()
    if (!(await this.stateManager.hasStateRoot(this.headBlock.header.stateRoot))) {
      if (this.headBlock.header.number !== 0n) throw new Error('the state of the chain head is missing from the database')
      await this.stateManager.generateCanonicalGenesis(genesis)
    }
    await this.stateManager.setStateRoot(this.headBlock.header.stateRoot)
    this.vm = await createVM({ common: this.common, blockchain: this.blockchain, stateManager: this.stateManager })
  }

  /** A state manager of its own at the state after `block`, for reads and calls. */
  async stateAt (block: Block): Promise<MerkleStateManager> {
    const state = this.stateManager.shallowCopy(false)
    await state.setStateRoot(block.header.stateRoot)
    return state
  }

  /** A VM of its own on the state after `block`, for eth_call and gas estimation. */
  async vmAt (block: Block): Promise<VM> {
    return await createVM({ common: this.common.copy(), blockchain: this.blockchain, stateManager: await this.stateAt(block) })
  }

  async getBlock (id: Uint8Array | bigint): Promise<Block | undefined> {
    try {
      return await this.blockchain.getBlock(id)
    } catch {
      return undefined
    }
  }

  async isCanonical (block: Block): Promise<boolean> {
    const canonical = await this.getBlock(block.header.number)
    return canonical != null && equalsBytes(canonical.hash(), block.hash())
  }

  async totalDifficulty (block: Block): Promise<bigint> {
    return await this.blockchain.getTotalDifficulty(block.hash(), block.header.number)
  }

  async getReceipts (block: Block): Promise<StoredReceipt[]> {
    return await this.receipts.get(bytesToHex(block.hash())) ?? []
  }

  /** Where a transaction sits in the canonical chain, if it does. */
  async findTransaction (hash: PrefixedHexString): Promise<{ block: Block, index: number } | undefined> {
    const location = await this.txIndex.get(hash.toLowerCase())
    if (location == null) return undefined
    const block = await this.getBlock(BigInt(location.blockNumber))
    if (block == null || bytesToHex(block.hash()) !== location.blockHash) return undefined
    return { block, index: location.index }
  }

  /**
   * Builds an unsealed block on the current head from `transactions`, skipping any that no
   * longer apply. State changes are rolled back: the sealed block is imported like any other.
   */
  async buildTemplate (transactions: TypedTransaction[], coinbase: Address, timestamp: bigint): Promise<{ block: Block, skipped: Array<{ tx: TypedTransaction, error: string }> }> {
    return await this.execution.run(async () => {
      const parent = this.headBlock
      const time = timestamp > parent.header.timestamp ? timestamp : parent.header.timestamp + 1n
      await this.stateManager.setStateRoot(parent.header.stateRoot)
      await this.stateManager.checkpoint()
      try {
        const builder = await buildBlock(this.vm, {
          parentBlock: parent,
          headerData: { timestamp: time, coinbase, difficulty: nextDifficulty(parent.header, time, this.rule), gasLimit: parent.header.gasLimit },
          blockOpts: { putBlockIntoBlockchain: false }
        })
        const skipped: Array<{ tx: TypedTransaction, error: string }> = []
        for (const tx of transactions) {
          try {
            await builder.addTransaction(tx, { skipHardForkValidation: true })
          } catch (err) {
            skipped.push({ tx, error: (err as Error).message })
          }
        }
        const { block } = await builder.build()
        return { block, skipped }
      } finally {
        await this.stateManager.revert()
        await this.stateManager.setStateRoot(this.headBlock.header.stateRoot)
      }
    })
  }

  /** Seals a template with a found nonce and mix hash. */
  seal (template: Block, nonce: Uint8Array, mixHash: Uint8Array): Block {
    const data = template.toJSON()
    data.header = { ...data.header, nonce: bytesToHex(nonce), mixHash: bytesToHex(mixHash) }
    return createBlock(data, { common: this.common, setHardfork: false })
  }

  /** Fully validates and stores a block; the heaviest chain becomes the head. */
  async importBlock (block: Block): Promise<ImportResult> {
    return await this.execution.run(async () => {
      if ((await this.getBlock(block.hash())) != null) return 'known'
      const parent = await this.getBlock(block.header.parentHash)
      if (parent == null) throw new UnknownParentError(bytesToHex(block.header.parentHash), block.header.number)
      const now = BigInt(Math.floor(Date.now() / 1000))
      if (block.header.timestamp > now + MAX_FUTURE_BLOCK_SECONDS) throw new ChainValidationError(`block ${block.header.number} is from the future`)
      await this.consensus.validateConsensus(block)
      await this.stateManager.setStateRoot(parent.header.stateRoot)
      let result
      try {
        result = await runBlock(this.vm, { block, root: parent.header.stateRoot, skipHardForkValidation: true })
      } catch (err) {
        throw new ChainValidationError(`block ${block.header.number} failed validation: ${(err as Error).message.split(' (vm hf=')[0] ?? ''}`)
      } finally {
        await this.stateManager.setStateRoot(this.headBlock.header.stateRoot)
      }
      const stored = block.transactions.map((tx, i) => {
        const receipt = result.receipts[i]
        const txResult = result.results[i]
        if (receipt == null || txResult == null) throw new ChainValidationError(`block ${block.header.number} produced no receipt for transaction ${i}`)
        return toStoredReceipt(tx, receipt, txResult, block.header.baseFeePerGas ?? 0n)
      })
      await this.receipts.put(bytesToHex(block.hash()), stored)
      const previousHead = this.headBlock
      await this.blockchain.putBlock(block)
      const newHead = await this.blockchain.getCanonicalHeadBlock()
      if (equalsBytes(newHead.hash(), previousHead.hash())) return 'imported-side'
      this.headBlock = newHead
      await this.stateManager.setStateRoot(newHead.header.stateRoot)
      const change = await this.describeHeadChange(previousHead, newHead)
      for (const added of change.added) await this.indexTransactions(added)
      if (change.removed.length > 0) this.options.log.info({ removed: change.removed.length, added: change.added.length, head: Number(newHead.header.number) }, 'chain reorganised')
      this.emit('head', change)
      return 'imported-head'
    })
  }

  private async indexTransactions (block: Block): Promise<void> {
    const blockHash = bytesToHex(block.hash())
    for (const [index, tx] of block.transactions.entries()) {
      await this.txIndex.put(bytesToHex(tx.hash()), { blockHash, blockNumber: block.header.number.toString(), index })
    }
  }

  /** Walks both heads back to their common ancestor. */
  private async describeHeadChange (oldHead: Block, newHead: Block): Promise<HeadChange> {
    const removed: Block[] = []
    const added: Block[] = []
    let a: Block = oldHead
    let b: Block = newHead
    while (b.header.number > a.header.number) {
      added.unshift(b)
      b = await this.blockchain.getBlock(b.header.parentHash)
    }
    while (a.header.number > b.header.number) {
      removed.unshift(a)
      a = await this.blockchain.getBlock(a.header.parentHash)
    }
    while (!equalsBytes(a.hash(), b.hash())) {
      removed.unshift(a)
      added.unshift(b)
      a = await this.blockchain.getBlock(a.header.parentHash)
      b = await this.blockchain.getBlock(b.header.parentHash)
    }
    return { head: newHead, removed, added }
  }

  async balanceOf (address: Address, block: Block = this.headBlock): Promise<bigint> {
    const state = await this.stateAt(block)
    return (await state.getAccount(address))?.balance ?? 0n
  }

  async nonceOf (address: Address, block: Block = this.headBlock): Promise<bigint> {
    const state = await this.stateAt(block)
    return (await state.getAccount(address))?.nonce ?? 0n
  }
}
