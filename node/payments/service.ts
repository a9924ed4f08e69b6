import { bytesToHex, createAddressFromString, type PrefixedHexString } from '@ethereumjs/util'
import { JsonRpcProvider } from 'ethers'
import type { HeadChange } from '../chain/chain.js'
import type { ChainService } from '../chain/service.js'
import type { ContentStore } from '../content/store.js'
import type { Database } from '../db/database.js'
import type { ChiralLibp2p } from '../p2p/host.js'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import { Mutex } from '../util/mutex.js'
import type { WalletService } from '../wallet/wallet-service.js'
import { PAYMENT_PROTOCOL, SETTLEMENT_INTERVAL_MS } from './constants.js'
import { EscrowClient } from './escrow-client.js'
import { EarningsLedger } from './ledger.js'
import { LeecherPayments, type LeecherPaymentsOptions } from './leecher.js'
import { Redeemer, type ClaimChain } from './redeemer.js'
import { SeederPayments } from './seeder.js'

export interface PaymentTerms {
  creditWindowBytes: number
  escrowDurationSeconds: number
  redeemThresholdWei: bigint
  /** Confirmations after which a claim is final. */
  redeemConfirmations: number
  escrowMinimumDepositWei: bigint
}

export interface PaymentsServiceOptions {
  db: Database
  host: ChiralLibp2p
  store: ContentStore
  wallet: WalletService
  chain: ChainService
  escrowAddress?: string
  terms: PaymentTerms
  log: Logger
}

/**
 * Payments for one node, in both roles. It knows seeders, wallets and verified bytes; which
 * transport carried the bytes never reaches it.
 */
export class PaymentsService {
  readonly ledger: EarningsLedger
  readonly seeder: SeederPayments
  readonly redeemer: Redeemer
  readonly leecher: LeecherPayments
  private provider?: JsonRpcProvider
  private client?: { signer: unknown, escrow: EscrowClient }
  private timer?: NodeJS.Timeout
  private readonly onHead = (change: HeadChange): void => {
    // A reorganisation may have dropped a claim: seen at once, before the chain mines it again.
    if (change.removed.length > 0) this.redeemer.requestFollow()
  }
  /** Every transaction of the node wallet goes through here, so two never take the same nonce. */
  private readonly submissions = new Mutex()

  constructor (private readonly options: PaymentsServiceOptions, createLeecher = (leecherOptions: LeecherPaymentsOptions) => new LeecherPayments(leecherOptions)) {
    this.ledger = new EarningsLedger(options.db)
    const escrow = (): EscrowClient | undefined => this.escrow()
    this.seeder = new SeederPayments({
      ledger: this.ledger,
      escrow,
      wallet: () => this.walletAddress(),
      // Asked before every range or chunk served: the store's in-memory view, not a database read.
      priceOf: async cid => {
        const servable = await options.store.servable(cid)
        return servable == null ? undefined : BigInt(servable.entry.pricePerMiB)
      },
      // A miner may stamp blocks ahead of the clock: whichever is later decides what has expired.
      now: () => Math.max(Math.floor(Date.now() / 1000), Number(options.chain.chain.head.header.timestamp)),
      creditWindowBytes: options.terms.creditWindowBytes,
      log: options.log
    })
    this.redeemer = new Redeemer({
      ledger: this.ledger,
      escrow,
      chain: claimChain(options.chain),
      redeemThresholdWei: options.terms.redeemThresholdWei,
      confirmations: options.terms.redeemConfirmations,
      log: options.log
    })
    this.leecher = createLeecher({
      db: options.db,
      host: options.host,
      escrow,
      signer: () => this.options.wallet.isUnlocked() ? this.options.wallet.signer() : undefined,
      balance: async address => await options.chain.chain.balanceOf(createAddressFromString(address)),
      headTimestamp: () => Number(options.chain.chain.head.header.timestamp),
      escrowDurationSeconds: options.terms.escrowDurationSeconds,
      escrowMinimumDepositWei: options.terms.escrowMinimumDepositWei,
      creditWindowBytes: options.terms.creditWindowBytes,
      log: options.log
    })
  }

  async start (): Promise<void> {
    await this.options.host.handle(PAYMENT_PROTOCOL, ({ stream, connection }) => {
      void this.seeder.handle(stream, connection.remotePeer.toString())
    })
    this.options.chain.chain.on('head', this.onHead)
    this.timer = setInterval(() => { void this.settle() }, SETTLEMENT_INTERVAL_MS)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    this.options.chain.chain.off('head', this.onHead)
    await this.options.host.unhandle(PAYMENT_PROTOCOL).catch(() => {})
    this.provider?.destroy()
  }

  /** The escrow contract with the node wallet as signer, or undefined while that is impossible. */
  escrow (): EscrowClient | undefined {
    const address = this.options.escrowAddress
    const url = this.options.chain.rpcUrls?.url
    if (address == null || url == null || !this.options.wallet.isUnlocked()) return undefined
    const signer = this.options.wallet.signer()
    if (this.client?.signer !== signer) {
      this.provider ??= new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 250 })
      this.client = { signer, escrow: new EscrowClient(address, signer.connect(this.provider), this.submissions) }
    }
    return this.client.escrow
  }

  private walletAddress (): string {
    return this.options.wallet.isUnlocked() ? this.options.wallet.signer().address : ''
  }

  private async settle (): Promise<void> {
    try {
      await this.redeemer.followClaims()
      await this.redeemer.redeem(false)
      await this.leecher.refundExpired()
    } catch (err) {
      this.options.log.warn({ err: errorMessage(err) }, 'settlement failed; retrying later')
    }
  }
}

/** The node's own chain as the redeemer reads it: in-process index and receipt reads, no RPC. */
function claimChain (service: ChainService): ClaimChain {
  return {
    headNumber: () => service.chain.head.header.number,
    findTransaction: async hash => {
      const found = await service.chain.findTransaction(hash as PrefixedHexString)
      if (found == null) return undefined
      const receipt = (await service.chain.getReceipts(found.block))[found.index]
      if (receipt == null) return undefined
      return { blockNumber: found.block.header.number, blockHash: bytesToHex(found.block.hash()), status: receipt.status, logs: receipt.logs }
    }
  }
}
