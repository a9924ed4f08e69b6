import { setTimeout as sleep } from 'node:timers/promises'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DIRECT_ASKS_HEAD_START_MS, DISCOVERY_GRACE_MS, DISCOVERY_TIMEOUT_MS, MAX_DIRECT_RECORD_ASKS, MAX_RECORD_BYTES, RECORD_PROTOCOL } from '../config/constants.js'
import { parseContentId } from '../content/cid.js'
import type { SeedEntry } from '../content/store.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { FrameReader, frameBytes, frameJson } from './framing.js'
import type { ChiralLibp2p } from './host.js'
import { recordKey, signRecord, verifyRecord, type FileRecord } from './records.js'

export interface DiscoveryOptions {
  host: ChiralLibp2p
  privateKey: PrivateKey
  recordTtlSeconds: number
  /** The transports this node serves right now, with their endpoints. */
  transports: () => FileRecord['transports']
  /** The address payments for this node's files go to ('' when it has no wallet), with its proof. */
  wallet: () => { address: string, proof: string }
  /** Whether a record's wallet really belongs to its peer; records failing this are not used. */
  walletBindingValid: (record: FileRecord) => boolean
  log: Logger
}

export interface SeederLookup {
  seeders: FileRecord[]
  /** Distinct peers that answered a DHT query during the lookup. */
  peersAsked: number
}

/**
 * Publishing and finding seeders: a provider record says who seeds a content id, and a signed
 * file record per seeder says what it serves, where and at what price.
 */
export class Discovery {
  private lastSequence = 0
  private republishTimer?: NodeJS.Timeout
  /** The signed record this node last published per content id, also served on request. */
  private readonly published = new Map<string, Uint8Array>()

  constructor (private readonly options: DiscoveryOptions) {}

  /** Serves this node's signed records directly, so a reader needs one round trip, not a DHT walk. */
  async start (): Promise<void> {
    await this.options.host.handle(RECORD_PROTOCOL, ({ stream }) => {
      (async () => {
        const request = await new FrameReader(stream.source).readJson(256) as { cid?: unknown }
        const value = typeof request?.cid === 'string' ? this.published.get(request.cid) : undefined
        await stream.sink(value == null ? [] : [frameBytes(value)])
      })().catch(err => { stream.abort(err instanceof Error ? err : new Error(String(err))) })
    })
  }

  async publish (entry: SeedEntry): Promise<void> {
    const { host, log } = this.options
    const { cid } = parseContentId(entry.cid)
    await this.putRecord(entry, false)
    try {
      await host.contentRouting.provide(cid)
    } catch (err) {
      log.debug({ cid: entry.cid, err: errorMessage(err) }, 'provide reached no peers yet; the republish timer retries')
    }
  }

  /** A withdrawn record outranks the live one, so readers learn at once that it is gone. */
  async withdraw (entry: SeedEntry): Promise<void> {
    const { cid } = parseContentId(entry.cid)
    await this.options.host.contentRouting.cancelReprovide(cid).catch(() => {})
    await this.putRecord(entry, true)
  }

  /** Republishes every seeded file's record at half its lifetime, before it can expire. */
  startRepublishing (entries: () => Promise<SeedEntry[]>): void {
    const intervalMs = this.options.recordTtlSeconds * 1000 / 2
    this.republishTimer = setInterval(() => {
      entries().then(async list => {
        for (const entry of list) await this.publish(entry)
      }).catch(err => { this.options.log.warn({ err: errorMessage(err) }, 'republish failed') })
    }, intervalMs)
    this.republishTimer.unref()
  }

  stop (): void {
    clearInterval(this.republishTimer)
  }

  /**
   * Finds and verifies the seeders of a content id, answering shortly after the first verified
   * seeder with those verified by then. Peers already connected are asked for their record at
   * once, as Bitswap asks its connected peers before the DHT: a seeder among them answers in one
   * round trip, while the DHT walk needs several; the walk starts once they have answered (or
   * after DIRECT_ASKS_HEAD_START_MS). With `onLateSeeder`, the provider walk then goes
   * on in the background and hands over every seeder verified later (one still being dialled,
   * say), so a download starts at once and still gains every seeder without a second walk.
   */
  async findSeeders (cidText: string, signal?: AbortSignal, options: { onLateSeeder?: (record: FileRecord) => void } = {}): Promise<SeederLookup> {
    const { host, log } = this.options
    const { cid } = parseContentId(cidText)
    const lookupSignal = AbortSignal.any([AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), ...(signal == null ? [] : [signal])])
    const asked = new Set<string>()
    const lookups = new Map<string, Promise<void>>()
    const self = host.peerId.toString()
    const usable = (record: FileRecord | undefined): record is FileRecord => record != null && !record.withdrawn && this.hasValidWallet(record)
    // A short grace after the first verified seeder lets the others that answer at about the
    // same time join the first batch (and its manifest vote).
    const walk = new AbortController()
    let answer: (() => void) | undefined
    const graceOver = new Promise<void>(resolve => { answer = resolve })
    let graceTimer: NodeJS.Timeout | undefined
    const batch: FileRecord[] = []
    let batchTaken = false
    const onRecord = (record: FileRecord | undefined): void => {
      if (batchTaken) {
        if (usable(record)) options.onLateSeeder?.(record)
        return
      }
      if (record == null) return
      batch.push(record)
      if (!record.withdrawn && graceTimer == null) graceTimer = setTimeout(() => { answer?.() }, DISCOVERY_GRACE_MS)
    }
    // Whether each connected peer answered (with a record or without): one that could not be
    // asked directly and turns out to be a provider is looked up like any other provider.
    const directAsks = new Map<string, Promise<boolean>>()
    for (const peer of this.connectedPeers()) {
      const id = peer.toString()
      directAsks.set(id, this.requestRecord(cidText, peer, lookupSignal).then(record => {
        asked.add(id)
        onRecord(record)
        return true
      }, () => false))
    }
    const allAnswered = async (): Promise<unknown> => await Promise.all([...directAsks.values(), ...lookups.values()])
    const walked = (async () => {
      await Promise.race([Promise.all(directAsks.values()), sleep(DIRECT_ASKS_HEAD_START_MS)])
      try {
        for await (const event of host.services.dht.findProviders(cid, { signal: AbortSignal.any([lookupSignal, walk.signal]) })) {
          if (event.name === 'PEER_RESPONSE' && !event.from.equals(host.peerId)) asked.add(event.from.toString())
          if (event.name !== 'PROVIDER') continue
          for (const provider of event.providers) {
            const id = provider.id.toString()
            if (id === self || lookups.has(id)) continue
            await host.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
            const answered = directAsks.get(id) ?? Promise.resolve(false)
            lookups.set(id, answered.then(async direct => { if (!direct) onRecord(await this.fetchRecord(cidText, provider.id, asked, lookupSignal)) }))
          }
        }
      } catch (err) {
        if (!walk.signal.aborted) log.debug({ cid: cidText, err: errorMessage(err) }, 'provider lookup ended early')
      }
      // No more lookups start once the walk is over: the answer waits for the ones it started.
      await allAnswered()
    })()
    await Promise.race([walked, graceOver])
    clearTimeout(graceTimer)
    if (options.onLateSeeder == null) {
      walk.abort()
      await allAnswered()
    }
    batchTaken = true
    return { seeders: batch.filter(usable), peersAsked: asked.size }
  }

  private hasValidWallet (record: FileRecord): boolean {
    if (record.wallet === '' || this.options.walletBindingValid(record)) return true
    this.options.log.warn({ cid: record.cid, peer: record.peerId, wallet: record.wallet }, 'ignoring a record whose wallet is not bound to its peer')
    return false
  }

  /** Distinct connected peers, up to MAX_DIRECT_RECORD_ASKS. */
  private connectedPeers (): PeerId[] {
    const peers = new Map<string, PeerId>()
    for (const connection of this.options.host.getConnections()) {
      if (peers.size >= MAX_DIRECT_RECORD_ASKS) break
      if (connection.status === 'open') peers.set(connection.remotePeer.toString(), connection.remotePeer)
    }
    return [...peers.values()]
  }

  /** The seeder's own signed record (one round trip); for a connected peer that could not answer, the best one the DHT holds. */
  private async fetchRecord (cid: string, peer: PeerId, asked: Set<string>, signal: AbortSignal): Promise<FileRecord | undefined> {
    const key = recordKey(cid, peer.toString())
    let failure: unknown
    let best = await this.requestRecord(cid, peer, signal).catch((err: unknown) => {
      failure = err
      this.options.log.debug({ cid, peer: peer.toString(), err: errorMessage(err) }, 'direct record request failed')
      return undefined
    })
    if (failure == null) asked.add(peer.toString())
    // A peer that answered without a record does not seed the file, and one that cannot be
    // dialled at all is offline (provider records outlive their seeders): a DHT walk for its
    // record would cost CPU while the download starts, for a seeder nobody can use. Only a peer
    // that is connected but could not answer is looked up in the DHT.
    if (best != null || failure == null || this.options.host.getConnections(peer).length === 0) return best
    try {
      for await (const event of this.options.host.services.dht.get(key, { signal })) {
        if (event.name === 'PEER_RESPONSE' && !event.from.equals(this.options.host.peerId)) asked.add(event.from.toString())
        if (event.name !== 'VALUE') continue
        const record = await verifyRecord(key, event.value).catch(() => undefined)
        if (record != null && (best == null || record.sequence > best.sequence)) best = record
      }
    } catch (err) {
      if (best == null) this.options.log.debug({ cid, peer: peer.toString(), err: errorMessage(err) }, 'no file record found')
    }
    if (best != null) {
      const addresses = best.addresses.flatMap(text => { try { return [multiaddr(text)] } catch { return [] } })
      await this.options.host.peerStore.merge(peerIdFromString(best.peerId), { multiaddrs: addresses }).catch(() => {})
    }
    return best
  }

  /**
   * Asks a peer for its own signed record of `cid`: undefined if it has none; throws if it could
   * not be asked or sent a record that does not verify. The protocol is selected optimistically,
   * with the request in the same message, so the answer takes one round trip, not two.
   */
  private async requestRecord (cid: string, peer: PeerId, signal: AbortSignal): Promise<FileRecord | undefined> {
    const stream = await this.options.host.dialProtocol(peer, RECORD_PROTOCOL, { signal, negotiateFully: false })
    await stream.sink([frameJson({ cid })])
    const value = await new FrameReader(stream.source).readFrame(MAX_RECORD_BYTES, true)
    return value == null ? undefined : await verifyRecord(recordKey(cid, peer.toString()), value)
  }

  private async putRecord (entry: SeedEntry, withdrawn: boolean): Promise<void> {
    const { host, privateKey, recordTtlSeconds, transports, log } = this.options
    this.lastSequence = Math.max(this.lastSequence + 1, Date.now())
    const record: FileRecord = {
      version: 2,
      cid: entry.cid,
      peerId: host.peerId.toString(),
      manifestRoot: entry.manifestRoot,
      size: entry.size,
      name: entry.name,
      chunkSize: entry.chunkSize,
      addresses: host.getMultiaddrs().slice(0, 16).map(address => address.toString()),
      pricePerMiB: entry.pricePerMiB,
      wallet: this.options.wallet().address,
      walletProof: this.options.wallet().proof,
      transports: transports(),
      sequence: this.lastSequence,
      expiresAt: Date.now() + recordTtlSeconds * 1000,
      withdrawn
    }
    const value = await signRecord(record, privateKey)
    this.published.set(entry.cid, value)
    try {
      for await (const event of host.services.dht.put(recordKey(entry.cid, record.peerId), value)) {
        if (event.name === 'QUERY_ERROR') log.trace({ err: event.error.message }, 'record put error')
      }
    } catch (err) {
      log.debug({ cid: entry.cid, err: errorMessage(err) }, 'record put reached no peers yet; the republish timer retries')
    }
  }
}
