import type { TypedTransaction } from '@ethereumjs/tx'
import type { Chain } from '../chain.js'
import type { Miner } from '../miner.js'
import type { TxPool } from '../txpool.js'

export interface SyncProgress {
  startingBlock: bigint
  currentBlock: bigint
  highestBlock: bigint
}

/** What the JSON-RPC server needs from the node. */
export interface RpcBackend {
  chain: Chain
  txpool: TxPool
  /** Absent when the node does not mine; mining methods then answer with an error. */
  miner?: Miner
  peerCount: () => number
  /** False once the node has caught up with its peers. */
  syncStatus: () => SyncProgress | false
  /** Called for every transaction accepted through eth_sendRawTransaction, to relay it. */
  onLocalTransaction?: (tx: TypedTransaction) => void
}
