import type { PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DISCOVERY_TIMEOUT_MS } from '../config/constants.js'
import { parseContentId } from '../content/cid.js'
import type { SeedEntry } from '../content/store.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import type { ChiralLibp2p } from './host.js'
import { recordKey, signRecord, verifyRecord, type FileRecord } from './records.js'

export interface DiscoveryOptions {
  host: ChiralLibp2p
  privateKey: PrivateKey
  recordTtlSeconds: number
  /** The transports this node serves right now, with their endpoints. */
  transports: () => FileRecord['transports']
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

  constructor (private readonly options: DiscoveryOptions) {}

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

  async findSeeders (cidText: string, signal?: AbortSignal): Promise<SeederLookup> {
    const { host, log } = this.options
    const { cid } = parseContentId(cidText)
    const lookupSignal = AbortSignal.any([AbortSignal.timeout(DISCOVERY_TIMEOUT_MS), ...(signal == null ? [] : [signal])])
    const asked = new Set<string>()
    const lookups = new Map<string, Promise<FileRecord | undefined>>()
    const self = host.peerId.toString()
    try {
      for await (const event of host.services.dht.findProviders(cid, { signal: lookupSignal })) {
        if (event.name === 'PEER_RESPONSE' && !event.from.equals(host.peerId)) asked.add(event.from.toString())
        if (event.name !== 'PROVIDER') continue
        for (const provider of event.providers) {
          const id = provider.id.toString()
          if (id === self || lookups.has(id)) continue
          await host.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs }).catch(() => {})
          lookups.set(id, this.fetchRecord(cidText, provider.id, asked, lookupSignal))
        }
      }
    } catch (err) {
      log.debug({ cid: cidText, err: errorMessage(err) }, 'provider lookup ended early')
    }
    const records = await Promise.all(lookups.values())
    const seeders = records.filter((record): record is FileRecord => record != null && !record.withdrawn)
    return { seeders, peersAsked: asked.size }
  }

  private async fetchRecord (cid: string, peer: PeerId, asked: Set<string>, signal: AbortSignal): Promise<FileRecord | undefined> {
    const key = recordKey(cid, peer.toString())
    let best: FileRecord | undefined
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

  private async putRecord (entry: SeedEntry, withdrawn: boolean): Promise<void> {
    const { host, privateKey, recordTtlSeconds, transports, log } = this.options
    this.lastSequence = Math.max(this.lastSequence + 1, Date.now())
    const record: FileRecord = {
      version: 1,
      cid: entry.cid,
      peerId: host.peerId.toString(),
      manifestRoot: entry.manifestRoot,
      size: entry.size,
      name: entry.name,
      chunkSize: entry.chunkSize,
      addresses: host.getMultiaddrs().slice(0, 16).map(address => address.toString()),
      pricePerMiB: entry.pricePerMiB,
      wallet: '',
      transports: transports(),
      sequence: this.lastSequence,
      expiresAt: Date.now() + recordTtlSeconds * 1000,
      withdrawn
    }
    const value = await signRecord(record, privateKey)
    try {
      for await (const event of host.services.dht.put(recordKey(entry.cid, record.peerId), value)) {
        if (event.name === 'QUERY_ERROR') log.trace({ err: event.error.message }, 'record put error')
      }
    } catch (err) {
      log.debug({ cid: entry.cid, err: errorMessage(err) }, 'record put reached no peers yet; the republish timer retries')
    }
  }
}
