import { createBlockFromRLP, type Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { PeerId, Stream } from '@libp2p/interface'
import { FrameReader, frameBytes, frameJson } from '../../p2p/framing.js'
import type { ChiralLibp2p } from '../../p2p/host.js'
import { errorMessage } from '../../util/errors.js'
import type { Logger } from '../../util/log.js'
import type { Chain } from '../chain.js'
import { ChainValidationError, UnknownParentError } from '../errors.js'
import type { TxPool } from '../txpool.js'
import {
  CHAIN_PROTOCOLS, MAX_BLOCKS_PER_REQUEST, MAX_BLOCK_BYTES, MAX_CONTROL_BYTES, MAX_TX_BYTES, push, readBlockFrames, requestJson,
  type StatusMessage
} from './protocol.js'
import { INVALID_BLOCK_PENALTY, INVALID_TX_PENALTY, PROTOCOL_VIOLATION_PENALTY, type PeerScores } from './peer-scores.js'

const STATUS_POLL_INTERVAL_MS = 5_000
const REQUEST_TIMEOUT_MS = 20_000
const MAX_SYNC_ROUNDS = 1_000
const KNOWN_HASHES_KEPT = 1_024

export interface SyncStatus { startingBlock: bigint, currentBlock: bigint, highestBlock: bigint }

export interface ChainSyncOptions {
  host: ChiralLibp2p
  chain: Chain
  txpool: TxPool
  scores: PeerScores
  log: Logger
}

/**
 * Keeps this node on the heaviest chain its peers know: new blocks and transactions are pushed
 * to every peer (gossip), a peer that announces a heavier head or a block with an unknown parent
 * is synced from (common ancestor, then ranges of blocks), and every received block goes through
 * full validation; a peer that sends invalid blocks loses score and is banned at the threshold.
 */
export class ChainSync {
  private timer?: NodeJS.Timeout
  private syncing?: Promise<void>
  private status: SyncStatus | false = false
  private readonly known = new Map<string, Set<string>>()
  private readonly abort = new AbortController()

  constructor (private readonly options: ChainSyncOptions) {}

  get syncStatus (): SyncStatus | false {
    return this.status
  }

  async start (): Promise<void> {
    const { host, chain, txpool } = this.options
    const handlers: Record<string, (stream: Stream, peer: PeerId) => Promise<void>> = {
      [CHAIN_PROTOCOLS.status]: async stream => { await this.serveStatus(stream) },
      [CHAIN_PROTOCOLS.blocks]: async stream => { await this.serveBlocks(stream) },
      [CHAIN_PROTOCOLS.block]: async stream => { await this.serveBlock(stream) },
      [CHAIN_PROTOCOLS.announce]: async (stream, peer) => { await this.receiveBlock(stream, peer) },
      [CHAIN_PROTOCOLS.tx]: async (stream, peer) => { await this.receiveTransaction(stream, peer) }
    }
    for (const [protocol, handler] of Object.entries(handlers)) {
      await host.handle(protocol, ({ stream, connection }) => {
        handler(stream, connection.remotePeer).catch(err => {
          this.options.log.debug({ protocol, err: errorMessage(err) }, 'chain protocol stream failed')
          stream.abort(err instanceof Error ? err : new Error(String(err)))
        })
      }, { maxInboundStreams: 64, maxOutboundStreams: 64 })
    }
    chain.on('head', change => { for (const block of change.added) this.broadcastBlock(block) })
    txpool.on('added', tx => { this.broadcastTransaction(tx) })
    host.addEventListener('peer:identify', event => { this.requestSync(event.detail.peerId) })
    this.timer = setInterval(() => { for (const peer of host.getPeers()) this.requestSync(peer) }, STATUS_POLL_INTERVAL_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.abort.abort()
    await this.syncing?.catch(() => {})
    for (const protocol of Object.values(CHAIN_PROTOCOLS)) await this.options.host.unhandle(protocol)
  }

  /** Starts a sync with `peer` unless one is running; the periodic poll retries the rest. */
  requestSync (peer: PeerId): void {
    if (this.syncing != null || this.abort.signal.aborted || this.options.scores.isBanned(peer.toString())) return
    this.syncing = this.syncWith(peer)
      .catch(err => { this.options.log.debug({ peer: peer.toString(), err: errorMessage(err) }, 'sync attempt failed') })
      .finally(() => {
        this.syncing = undefined
        this.status = false
      })
  }

  private async syncWith (peer: PeerId): Promise<void> {
    const { chain } = this.options
    for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
      const status = await this.fetchStatus(peer)
      if (status.genesisHash !== bytesToHex(chain.genesisHash)) {
        this.options.scores.penalize(peer.toString(), PROTOCOL_VIOLATION_PENALTY * 4)
        return
      }
      const ours = await chain.totalDifficulty(chain.head)
      if (BigInt(status.totalDifficulty) <= ours) return
      const theirHead = BigInt(status.headNumber)
      if (this.status === false) this.status = { startingBlock: chain.head.header.number, currentBlock: chain.head.header.number, highestBlock: theirHead }
      this.status.highestBlock = theirHead
      const ancestor = await this.findCommonAncestor(peer, chain.head.header.number < theirHead ? chain.head.header.number : theirHead)
      let next = ancestor + 1n
      while (next <= theirHead) {
        const blocks = await this.fetchBlocks(peer, next, MAX_BLOCKS_PER_REQUEST)
        if (blocks.length === 0) break
        for (const block of blocks) await this.importFrom(peer, block)
        next = (blocks.at(-1) as Block).header.number + 1n
        this.status.currentBlock = chain.head.header.number
      }
    }
  }

  /** Walks back from `from` in ranges until a block of the peer's chain is one we have. */
  private async findCommonAncestor (peer: PeerId, from: bigint): Promise<bigint> {
    let top = from
    for (;;) {
      const start = top >= BigInt(MAX_BLOCKS_PER_REQUEST - 1) ? top - BigInt(MAX_BLOCKS_PER_REQUEST - 1) : 0n
      const blocks = await this.fetchBlocks(peer, start, Number(top - start + 1n))
      for (const block of blocks.reverse()) {
        if ((await this.options.chain.getBlock(block.hash())) != null) return block.header.number
      }
      if (start === 0n) return 0n
      top = start - 1n
    }
  }

  private async importFrom (peer: PeerId, block: Block): Promise<void> {
    try {
      await this.options.chain.importBlock(block)
      this.remember(block, peer)
    } catch (err) {
      if (err instanceof ChainValidationError) {
        this.options.log.warn({ peer: peer.toString(), err: err.message }, 'peer sent an invalid block')
        this.options.scores.penalize(peer.toString(), INVALID_BLOCK_PENALTY)
      }
      throw err
    }
  }

  private async fetchStatus (peer: PeerId): Promise<StatusMessage> {
    const reader = await requestJson(this.options.host, peer, CHAIN_PROTOCOLS.status, {}, this.requestSignal())
    const status = await reader.readJson(MAX_CONTROL_BYTES) as Partial<StatusMessage>
    if (typeof status?.genesisHash !== 'string' || typeof status.totalDifficulty !== 'string' || typeof status.headNumber !== 'string') {
      this.options.scores.penalize(peer.toString(), PROTOCOL_VIOLATION_PENALTY)
      throw new Error('malformed status')
    }
    return status as StatusMessage
  }

  private async fetchBlocks (peer: PeerId, start: bigint, count: number): Promise<Block[]> {
    const reader = await requestJson(this.options.host, peer, CHAIN_PROTOCOLS.blocks, { start: start.toString(), count }, this.requestSignal())
    const blocks: Block[] = []
    for await (const frame of readBlockFrames(reader, count)) blocks.push(this.decodeBlock(peer, frame))
    return blocks
  }

  private decodeBlock (peer: PeerId, bytes: Uint8Array): Block {
    try {
      return createBlockFromRLP(bytes, { common: this.options.chain.common, setHardfork: false })
    } catch (err) {
      this.options.scores.penalize(peer.toString(), PROTOCOL_VIOLATION_PENALTY)
      throw new ChainValidationError(`undecodable block: ${errorMessage(err)}`)
    }
  }

  private async serveStatus (stream: Stream): Promise<void> {
    const { chain } = this.options
    await new FrameReader(stream.source).readJson(MAX_CONTROL_BYTES)
    const status: StatusMessage = {
      genesisHash: bytesToHex(chain.genesisHash),
      headHash: bytesToHex(chain.head.hash()),
      headNumber: chain.head.header.number.toString(),
      totalDifficulty: (await chain.totalDifficulty(chain.head)).toString()
    }
    await stream.sink([frameJson(status)])
  }

  private async serveBlocks (stream: Stream): Promise<void> {
    const request = await new FrameReader(stream.source).readJson(MAX_CONTROL_BYTES) as { start?: unknown, count?: unknown }
    if (typeof request?.start !== 'string' || !/^\d{1,20}$/.test(request.start) || !Number.isInteger(request.count)) throw new Error('bad blocks request')
    const start = BigInt(request.start)
    const count = Math.min(Math.max(Number(request.count), 0), MAX_BLOCKS_PER_REQUEST)
    const { chain } = this.options
    await stream.sink((async function * () {
      for (let number = start; number < start + BigInt(count) && number <= chain.head.header.number; number++) {
        const block = await chain.getBlock(number)
        if (block == null) return
        yield frameBytes(block.serialize())
      }
    })())
  }

  private async serveBlock (stream: Stream): Promise<void> {
    const request = await new FrameReader(stream.source).readJson(MAX_CONTROL_BYTES) as { hash?: unknown }
    if (typeof request?.hash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(request.hash)) throw new Error('bad block request')
    const block = await this.options.chain.getBlock(hexToBytes(request.hash as `0x${string}`))
    await stream.sink(block == null ? [] : [frameBytes(block.serialize())])
  }

  private async receiveBlock (stream: Stream, peer: PeerId): Promise<void> {
    const bytes = await new FrameReader(stream.source).readFrame(MAX_BLOCK_BYTES)
    const block = this.decodeBlock(peer, bytes)
    this.remember(block, peer)
    try {
      await this.importFrom(peer, block)
    } catch (err) {
      if (err instanceof UnknownParentError) this.requestSync(peer)
      else if (!(err instanceof ChainValidationError)) throw err
    }
  }

  private async receiveTransaction (stream: Stream, peer: PeerId): Promise<void> {
    const bytes = await new FrameReader(stream.source).readFrame(MAX_TX_BYTES)
    let tx: TypedTransaction
    try {
      tx = this.options.txpool.decode(bytes)
    } catch {
      this.options.scores.penalize(peer.toString(), INVALID_TX_PENALTY)
      return
    }
    this.rememberHash(bytesToHex(tx.hash()), peer)
    // Rejections such as "nonce too low" are normal for gossip that raced a block.
    await this.options.txpool.add(tx).catch(() => {})
  }

  private broadcastBlock (block: Block): void {
    this.broadcast(bytesToHex(block.hash()), CHAIN_PROTOCOLS.announce, block.serialize())
  }

  private broadcastTransaction (tx: TypedTransaction): void {
    this.broadcast(bytesToHex(tx.hash()), CHAIN_PROTOCOLS.tx, tx.serialize())
  }

  private broadcast (hash: string, protocol: string, payload: Uint8Array): void {
    const knownBy = this.known.get(hash) ?? new Set<string>()
    for (const peer of this.options.host.getPeers()) {
      const id = peer.toString()
      if (knownBy.has(id) || this.options.scores.isBanned(id)) continue
      this.rememberHash(hash, peer)
      push(this.options.host, peer, protocol, payload, this.requestSignal()).catch(err => {
        this.options.log.debug({ peer: id, err: errorMessage(err) }, 'gossip push failed')
      })
    }
  }

  private remember (block: Block, peer: PeerId): void {
    this.rememberHash(bytesToHex(block.hash()), peer)
  }

  private rememberHash (hash: string, peer: PeerId): void {
    let knownBy = this.known.get(hash)
    if (knownBy == null) {
      knownBy = new Set()
      this.known.set(hash, knownBy)
      if (this.known.size > KNOWN_HASHES_KEPT) this.known.delete(this.known.keys().next().value as string)
    }
    knownBy.add(peer.toString())
  }

  private requestSignal (): AbortSignal {
    return AbortSignal.any([this.abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)])
  }
}
