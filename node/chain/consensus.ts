import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Blockchain, Consensus, ConsensusOptions } from '@ethereumjs/blockchain'
import { ChainValidationError } from './errors.js'
import { nextDifficulty, type DifficultyRule } from './difficulty.js'
import { InvalidDifficultyError, InvalidProofOfWorkError } from './ethash/errors.js'

/** Proof-of-work checking, injected so the consensus rules do not depend on how hashes are computed. */
export type PowVerifier = (header: BlockHeader) => Promise<boolean>

/**
 * Chiral's consensus rules for @ethereumjs/blockchain: Ethash proof of work (checked with the
 * node's fast light verifier) and the Chiral difficulty rule. Uncles are not part of this chain.
 */
export class ChiralConsensus implements Consensus {
  readonly algorithm = 'ethash'
  private blockchain?: Blockchain

  constructor (private readonly verifyPow: PowVerifier, private readonly rule: DifficultyRule) {}

  async genesisInit (): Promise<void> {}

  async setup ({ blockchain }: ConsensusOptions): Promise<void> {
    this.blockchain = blockchain
  }

  async validateConsensus (block: Block): Promise<void> {
    if (block.uncleHeaders.length > 0) throw new ChainValidationError(`block ${block.header.number} has uncles, which this chain does not use`)
    if (!(await this.verifyPow(block.header))) throw new InvalidProofOfWorkError(block.header.number, 'mix hash or target not met')
  }

  async validateDifficulty (header: BlockHeader): Promise<void> {
    if (this.blockchain == null) throw new Error('consensus used before setup')
    const parent = await this.blockchain.getBlock(header.parentHash)
    const expected = nextDifficulty(parent.header, header.timestamp, this.rule)
    if (header.difficulty !== expected) throw new InvalidDifficultyError(header.number, header.difficulty, expected)
  }

  async newBlock (): Promise<void> {}
}
