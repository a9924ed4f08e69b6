import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, type Address } from '@ethereumjs/util'
import { join } from 'node:path'
import type { Database } from '../db/database.js'
import type { ChiralLibp2p } from '../p2p/host.js'
import type { Logger } from '../util/log.js'
import { Chain } from './chain.js'
import { EthashCacheStore, MinerPool, sealHash, verifyPow } from './ethash/index.js'
import { loadGenesis, type GenesisSpec } from './genesis.js'
import { Miner } from './miner.js'
import { createRpcServer, type RpcServer } from './rpc/server.js'
import { ChainSync } from './sync/chain-sync.js'
import { PeerScores } from './sync/peer-scores.js'
import { TxPool } from './txpool.js'

export interface ChainServiceOptions {
  home: string
  db: Database
  genesis: string
  ethashCacheDir: string
  minerThreads: number
  rpcHost: string
  rpcPort: number
  /** Browser origins allowed on the JSON-RPC (the node's own dashboard). */
  rpcAllowedOrigins: string[]
  log: Logger
}

/**
 * The node's embedded chain: blocks and state, the transaction pool, the Ethash miner, sync
 * with other Chiral nodes over the libp2p host, and the public JSON-RPC endpoint.
 */
export class ChainService {
  readonly spec: GenesisSpec
  readonly chain: Chain
  readonly txpool: TxPool
  readonly caches: EthashCacheStore
  readonly scores: PeerScores
  private readonly minerPool: MinerPool
  miner!: Miner
  sync!: ChainSync
  private rpc?: RpcServer
  rpcUrls?: { url: string, wsUrl: string }
  private host?: ChiralLibp2p

  constructor (private readonly options: ChainServiceOptions) {
    this.spec = loadGenesis(options.genesis)
    this.caches = new EthashCacheStore(options.ethashCacheDir === '' ? join(options.home, 'ethash') : options.ethashCacheDir)
    this.chain = new Chain({ db: options.db, spec: this.spec, verifyPow: async header => await verifyPow(header, this.caches), log: options.log })
    this.txpool = new TxPool(this.chain)
    this.minerPool = new MinerPool(this.caches, { threads: options.minerThreads })
    this.scores = new PeerScores(peer => { void this.onBan(peer) })
  }

  async open (): Promise<void> {
    await this.chain.open()
  }

  /** Starts sync and the RPC once the libp2p host exists. */
  async start (host: ChiralLibp2p, coinbase: Address): Promise<void> {
    this.host = host
    this.miner = new Miner(this.chain, this.txpool, this.minerPool, block => sealHash(block.header), coinbase, this.options.log)
    this.sync = new ChainSync({ host, chain: this.chain, txpool: this.txpool, scores: this.scores, log: this.options.log })
    await this.sync.start()
    this.rpc = createRpcServer({
      backend: {
        chain: this.chain,
        txpool: this.txpool,
        miner: this.miner,
        peerCount: () => host.getPeers().length,
        syncStatus: () => this.sync.syncStatus
      },
      host: this.options.rpcHost,
      port: this.options.rpcPort,
      allowedOrigins: this.options.rpcAllowedOrigins,
      log: this.options.log
    })
    this.rpcUrls = await this.rpc.start()
  }

  isBanned (peer: string): boolean {
    return this.scores.isBanned(peer)
  }

  setCoinbase (address: string): void {
    this.miner.coinbase = createAddressFromString(address)
  }

  async submitTransaction (tx: TypedTransaction): Promise<string> {
    return await this.txpool.add(tx)
  }

  async stop (): Promise<void> {
    await this.miner?.stop()
    await this.minerPool.stop()
    await this.sync?.stop()
    await this.rpc?.stop()
  }

  headSummary (): { number: string, hash: string } {
    return { number: this.chain.head.header.number.toString(), hash: bytesToHex(this.chain.head.hash()) }
  }

  private async onBan (peer: string): Promise<void> {
    this.options.log.warn({ peer }, 'banned peer for invalid chain data')
    const host = this.host
    if (host == null) return
    const connection = host.getConnections().find(c => c.remotePeer.toString() === peer)
    if (connection != null) await host.hangUp(connection.remotePeer).catch(() => {})
  }
}
