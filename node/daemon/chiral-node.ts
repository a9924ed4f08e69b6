import { rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { createAddressFromString } from '@ethereumjs/util'
import { AccountHistory } from '../chain/account-history.js'
import { ChainService } from '../chain/service.js'
import { API_ENDPOINT_FILENAME, API_TOKEN_FILENAME, BOOTSTRAP_REDIAL_INTERVAL_MS, HISTORY_SAMPLES, MAX_TRANSPORT_ENDPOINTS, TRANSFER_PROTOCOL } from '../config/constants.js'
import { MetricsHistory } from './history.js'
import { openNodeWallet } from '../wallet/node-wallet.js'
import { isPeerBindingValid, peerBindingDomain, signPeerBinding } from '../wallet/peer-binding.js'
import type { TypedDataDomain } from 'ethers'
import { resolveEscrowAddress, type EscrowAddressSource } from '../payments/deployments.js'
import { PaymentsService } from '../payments/service.js'
import type { LeecherPayments, LeecherPaymentsOptions } from '../payments/leecher.js'
import type { WalletService } from '../wallet/wallet-service.js'
import type { Config } from '../config/config.js'
import { ContentStore, type SeedEntry } from '../content/store.js'
import { Database } from '../db/database.js'
import { Discovery } from '../p2p/discovery.js'
import { createHost, type ChiralLibp2p } from '../p2p/host.js'
import { redialBootstrapWhileAlone } from '../p2p/bootstrap-redial.js'
import { loadOrCreatePeerKey } from '../p2p/identity.js'
import { endpointsOf, type FileRecord, type TransportEntry } from '../p2p/records.js'
import { HttpSource } from '../protocols/http/source.js'
import { HttpTransferServer } from '../protocols/http/server.js'
import { NativeSource } from '../protocols/native/source.js'
import { NativeTransferServer } from '../protocols/native/server.js'
import { DownloadManager } from '../transfer/downloads.js'
import { PeerStatsStore } from '../transfer/peer-stats.js'
import { RateLimiter } from '../transfer/rate-limiter.js'
import type { ChunkSource, ServedBytes, TransportServer } from '../transfer/source.js'
import { parseWei } from '../util/units.js'
import type { Logger } from '../util/log.js'

/** The parts a ContentStore can be swapped for: tests inject a deliberately faulty one. */
export interface NodeComponents {
  createStore?: (db: Database) => ContentStore
  createLeecherPayments?: (options: LeecherPaymentsOptions) => LeecherPayments
}

/**
 * One Chiral node: the parts composed and started in order, stopped in reverse. Each part
 * gets only what it needs; transports and the scheduler never see each other.
 */
export class ChiralNode {
  readonly uploadLimiter: RateLimiter
  readonly downloadLimiter: RateLimiter
  readonly db: Database
  readonly store: ContentStore
  readonly peerStats: PeerStatsStore
  host!: ChiralLibp2p
  discovery!: Discovery
  downloads!: DownloadManager
  transports: TransportServer[] = []
  httpServer!: HttpTransferServer
  readonly apiToken: string
  private privateKey!: PrivateKey
  readonly chainService: ChainService
  accountHistory!: AccountHistory
  wallet!: WalletService
  private walletAddress?: string
  /** The node wallet's signature binding it to this peer, published in every file record. */
  private walletProof?: { address: string, proof: string }
  /** The escrow contract payments settle through on this chain, if the genesis or a deploy has one. */
  escrowContract?: { address: string, source: EscrowAddressSource }
  payments!: PaymentsService
  private stopBootstrapRedial?: () => void
  readonly startedAt = Date.now()
  readonly totals = { uploaded: 0 }
  /** Upload, download and hashrate samples for the dashboard's charts (GET /api/history). */
  readonly history: MetricsHistory

  constructor (readonly home: string, readonly config: Config, readonly log: Logger, private readonly components: NodeComponents = {}) {
    this.uploadLimiter = new RateLimiter(config.maxUploadRate)
    this.downloadLimiter = new RateLimiter(config.maxDownloadRate)
    this.db = new Database(home)
    this.store = components.createStore?.(this.db) ?? new ContentStore(this.db)
    this.peerStats = new PeerStatsStore(this.db)
    this.apiToken = loadOrCreateToken(home)
    this.chainService = new ChainService({
      home,
      db: this.db,
      genesis: config.chainGenesis,
      ethashCacheDir: config.ethashCacheDir,
      minerThreads: config.minerThreads,
      rpcHost: config.rpcHost,
      rpcPort: config.rpcPort,
      rpcAllowedOrigins: [],
      log
    })
    this.history = new MetricsHistory({
      uploaded: () => this.totals.uploaded,
      downloaded: () => this.totalDownloaded(),
      hashrate: () => this.chainService.miner.hashrate
    }, config.historyIntervalMs, HISTORY_SAMPLES)
  }

  /** Bytes received from all peers (the per-peer counters, summed). */
  totalDownloaded (): number {
    return this.peerStats.list().reduce((sum, peer) => sum + peer.bytesDownloaded, 0)
  }

  async start (): Promise<void> {
    await this.db.open()
    await this.peerStats.load()
    this.history.start() // after the load: the download counter's baseline is the stored total
    await this.chainService.open()
    this.escrowContract = resolveEscrowAddress(this.home, this.chainService.spec)
    this.accountHistory = new AccountHistory(this.db, this.chainService.chain)
    this.wallet = await openNodeWallet(this.home, this.log)
    this.walletAddress = await this.wallet.address().catch(() => undefined)
    this.privateKey = await loadOrCreatePeerKey(this.home)
    this.host = await createHost({
      privateKey: this.privateKey,
      listen: this.config.listen,
      announce: this.config.announce,
      bootstrap: this.config.bootstrap,
      isBanned: peer => this.chainService.isBanned(peer)
    })
    this.payments = new PaymentsService({
      db: this.db,
      host: this.host,
      store: this.store,
      wallet: this.wallet,
      chain: this.chainService,
      escrowAddress: this.escrowContract?.address,
      terms: {
        creditWindowBytes: this.config.creditWindowBytes,
        escrowDurationSeconds: this.config.escrowDurationSeconds,
        redeemThresholdWei: BigInt(this.config.redeemThresholdWei),
        redeemConfirmations: this.config.redeemConfirmations,
        escrowMinimumDepositWei: BigInt(this.config.escrowMinimumDepositWei)
      },
      log: this.log
    }, this.components.createLeecherPayments)
    const gate = this.payments.seeder
    const onServed = (served: ServedBytes): void => { this.onServed(served) }
    this.httpServer = new HttpTransferServer({
      host: this.config.httpHost,
      port: this.config.httpPort,
      store: this.store,
      uploadLimiter: this.uploadLimiter,
      onServed,
      gate,
      advertisedHosts: () => this.advertisedHosts(),
      log: this.log
    })
    this.transports = [
      new NativeTransferServer({ host: this.host, store: this.store, uploadLimiter: this.uploadLimiter, onServed, gate, log: this.log }),
      this.httpServer
    ]
    for (const transport of this.transports) await transport.start()
    this.discovery = new Discovery({
      host: this.host,
      privateKey: this.privateKey,
      recordTtlSeconds: this.config.recordTtlSeconds,
      transports: () => this.transportEndpoints(),
      wallet: () => this.walletProof == null ? { address: '', proof: '' } : { address: this.walletProof.address, proof: this.walletProof.proof },
      walletBindingValid: record => isPeerBindingValid(this.peerBindingDomain(), record.peerId, record.wallet, record.walletProof),
      log: this.log
    })
    await this.refreshWalletProof()
    await this.discovery.start()
    this.downloads = new DownloadManager({
      db: this.db,
      store: this.store,
      discovery: this.discovery,
      downloadLimiter: this.downloadLimiter,
      peerStats: this.peerStats,
      sourcesFor: record => this.sourcesFor(record),
      prepareSeeders: async (entry, records, size, first) => await this.payments.leecher.prepareSeeders(entry, records, size, first),
      onChunkVerified: (entry, peerId, bytes) => { this.payments.leecher.onChunkVerified(entry.cid, peerId, bytes) },
      onChunkCalledOff: (entry, peerId, bytes) => { this.payments.leecher.onChunkCalledOff(entry.cid, peerId, bytes) },
      onTransferEnded: async entry => { await this.payments.leecher.endDownload(entry.cid) },
      onCompleted: async (entry, manifest) => {
        if (entry.outputPath == null) return
        const seeded = await this.store.seed(entry.outputPath, entry.cid, manifest, parseWei(this.config.defaultPricePerMiB))
        this.publishInBackground(seeded)
      },
      defaultDirectory: join(this.home, 'downloads'),
      log: this.log
    })
    this.store.on('changed', entry => {
      this.log.warn({ cid: entry.cid, path: entry.path }, 'seeded file changed on disk; no longer serving it')
      void this.discovery.withdraw(entry)
    })
    await this.host.start()
    this.stopBootstrapRedial = redialBootstrapWhileAlone(this.host, this.config.bootstrap, BOOTSTRAP_REDIAL_INTERVAL_MS, this.log)
    await this.payments.start()
    for (const entry of await this.store.list()) {
      if (entry.state === 'seeding') {
        const servable = await this.store.servable(entry.cid)
        if (servable != null) this.publishInBackground(entry)
      }
    }
    this.discovery.startRepublishing(async () => (await this.store.list()).filter(entry => entry.state === 'seeding'))
    await this.downloads.resumeAll()
    const walletAddress = this.walletAddress
    if (walletAddress != null) this.accountHistory.watch(walletAddress)
    const coinbase = this.config.coinbase !== '' ? this.config.coinbase : walletAddress
    await this.chainService.start(this.host, createAddressFromString(coinbase ?? ZERO_ADDRESS))
    if (this.config.mine && coinbase != null) this.chainService.miner.start(this.config.minerThreads)
    else if (this.config.mine) this.log.warn('not mining: no coinbase (set coinbase in the config or create a wallet)')
  }

  async add (path: string, pricePerMiB: bigint | undefined, onBytes?: (bytes: number, total: number) => void): Promise<SeedEntry> {
    const entry = await this.store.add(path, pricePerMiB ?? parseWei(this.config.defaultPricePerMiB), onBytes)
    this.publishInBackground(entry)
    return entry
  }

  async stopSeeding (cid: string): Promise<SeedEntry> {
    const entry = await this.store.setState(cid, 'stopped')
    await this.discovery.withdraw(entry)
    return entry
  }

  async resumeSeeding (cid: string): Promise<SeedEntry> {
    const entry = await this.store.setState(cid, 'seeding')
    this.publishInBackground(entry)
    return entry
  }

  /** A wallet created or imported while running becomes the payee in records and the coinbase. */
  useWallet (address: string): void {
    this.walletAddress = address
    this.refreshWalletProof().catch(err => { this.log.warn({ err: String(err) }, 'could not bind the new wallet to this peer') })
    this.accountHistory.watch(address)
    if (this.config.coinbase === '') this.chainService.setCoinbase(address)
  }

  setRateLimits (limits: { maxUploadRate?: number, maxDownloadRate?: number }): void {
    if (limits.maxUploadRate != null) this.uploadLimiter.setRate(limits.maxUploadRate)
    if (limits.maxDownloadRate != null) this.downloadLimiter.setRate(limits.maxDownloadRate)
  }

  async writeApiEndpoint (url: string): Promise<void> {
    await writeFile(join(this.home, API_ENDPOINT_FILENAME), JSON.stringify({ url, pid: process.pid }) + '\n', { mode: 0o600 })
  }

  async stop (): Promise<void> {
    await rm(join(this.home, API_ENDPOINT_FILENAME), { force: true })
    this.history.stop()
    this.discovery?.stop()
    this.stopBootstrapRedial?.()
    await this.payments?.stop()
    await this.chainService.stop()
    await this.downloads?.stop()
    for (const transport of [...this.transports].reverse()) await transport.stop().catch(() => {})
    await this.host?.stop()
    await this.store.close()
    await this.peerStats.flush()
    await this.db.close()
  }

  private peerBindingDomain (): TypedDataDomain {
    return peerBindingDomain(this.chainService.chain.chainId, this.escrowContract?.address)
  }

  /** Records name the wallet only once it has signed for this peer; a locked wallet cannot. */
  private async refreshWalletProof (): Promise<void> {
    if (!this.wallet.isUnlocked()) return
    const signer = this.wallet.signer()
    this.walletProof = { address: signer.address, proof: await signPeerBinding(signer, this.peerBindingDomain(), this.host.peerId.toString()) }
  }

  private publishInBackground (entry: SeedEntry): void {
    this.payments.seeder.notePrice(entry.cid, BigInt(entry.pricePerMiB))
    this.discovery.publish(entry).catch(err => { this.log.warn({ cid: entry.cid, err: String(err) }, 'publish failed') })
  }

  private onServed (served: ServedBytes): void {
    this.totals.uploaded += served.bytes
    this.peerStats.record(served.remote, { bytesUploaded: served.bytes })
    this.store.addBytesServed(served.cid, served.bytes)
  }

  private transportEndpoints (): TransportEntry[] {
    return [
      { name: 'native', endpoints: [TRANSFER_PROTOCOL] },
      { name: 'http', endpoints: this.httpServer.endpoints().slice(0, MAX_TRANSPORT_ENDPOINTS) }
    ]
  }

  private advertisedHosts (): string[] {
    if (this.config.httpHost !== '0.0.0.0' && this.config.httpHost !== '::') return [this.config.httpHost]
    const hosts = new Set<string>()
    for (const address of this.host.getMultiaddrs()) {
      const { host, family } = address.toOptions()
      if (family === 4) hosts.add(host)
    }
    return [...hosts]
  }

  /** Sources for the transports this node downloads over that the record lists; others are skipped. */
  private sourcesFor (record: FileRecord): ChunkSource[] {
    const sources: ChunkSource[] = []
    if (this.config.downloadTransports.includes('native') && endpointsOf(record, 'native') != null) {
      sources.push(new NativeSource(this.host, peerIdFromString(record.peerId), record.cid))
    }
    const [httpEndpoint] = this.config.downloadTransports.includes('http') ? endpointsOf(record, 'http') ?? [] : []
    if (httpEndpoint != null) {
      sources.push(new HttpSource(record.peerId, httpEndpoint, record.cid, () => this.payments.leecher.credentialFor(record.peerId, record.cid)))
    }
    return sources
  }
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'

function loadOrCreateToken (home: string): string {
  const path = join(home, API_TOKEN_FILENAME)
  if (existsSync(path)) return readFileSync(path, 'utf8').trim()
  const token = randomBytes(32).toString('hex')
  writeFileSync(path, token + '\n', { mode: 0o600 })
  return token
}
