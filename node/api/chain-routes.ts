import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { ChiralNode } from '../daemon/chiral-node.js'
import { ChiralError } from '../util/errors.js'
import { formatChi, parseChi } from '../wallet/units.js'
import { ErrorBody } from './schemas.js'

const errors = { 400: Type.Ref(ErrorBody), 401: Type.Ref(ErrorBody), 404: Type.Ref(ErrorBody) }
const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' })

const SendBody = Type.Object({
  to: Address,
  amount: Type.String({ minLength: 1, maxLength: 100, description: 'CHI as a decimal string, e.g. "1.5"' })
}, { additionalProperties: false })

const WalletBody = Type.Object({
  password: Type.String({ minLength: 8, maxLength: 1024 }),
  mnemonic: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'import this phrase instead of creating one' })),
  words: Type.Optional(Type.Union([Type.Literal(12), Type.Literal(24)])),
  force: Type.Optional(Type.Boolean({ description: 'replace an existing wallet (it is kept in keystore/replaced)' }))
}, { additionalProperties: false })

const UnlockBody = Type.Object({ password: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false })
const MiningStartBody = Type.Object({ threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256 })) }, { additionalProperties: false })

/** Gas for a plain value transfer. */
const TRANSFER_GAS = 21_000n

/** Chain, wallet and mining routes of the local API. */
export function registerChainRoutes (app: FastifyInstance, node: ChiralNode, prefix: string): void {
  const chainService = node.chainService

  const walletView = async (): Promise<Record<string, unknown>> => {
    const address = await node.wallet.address().catch(() => null)
    const balance = address == null ? 0n : await chainService.chain.balanceOf(createAddressFromString(address))
    return { address, unlocked: node.wallet.isUnlocked(), balance: balance.toString(), balanceChi: formatChi(balance) }
  }

  app.get(`${prefix}/chain`, { schema: { summary: 'Chain id, head, sync state and the JSON-RPC URLs' } }, async () => {
    const { chain, sync } = chainService
    const syncing = sync.syncStatus
    return {
      chainId: chain.chainId.toString(),
      network: chainService.spec.name,
      currency: chainService.spec.currency,
      genesisHash: `0x${Buffer.from(chain.genesisHash).toString('hex')}`,
      head: { ...chainService.headSummary(), difficulty: chain.head.header.difficulty.toString(), timestamp: Number(chain.head.header.timestamp) },
      syncing: syncing === false ? false : { startingBlock: syncing.startingBlock.toString(), currentBlock: syncing.currentBlock.toString(), highestBlock: syncing.highestBlock.toString() },
      rpc: chainService.rpcUrls ?? null,
      contracts: { escrow: node.escrowContract ?? null },
      pendingTransactions: chainService.txpool.size,
      blockRewardWei: BigInt(chainService.spec.blockReward).toString()
    }
  })

  app.get(`${prefix}/wallet`, { schema: { summary: 'The node wallet: address, balance in wei and CHI, lock state' } }, async () => await walletView())

  app.post<{ Body: { password: string, mnemonic?: string, words?: 12 | 24, force?: boolean } }>(`${prefix}/wallet`, {
    schema: { summary: 'Create a wallet (the recovery phrase is returned once) or import one', body: WalletBody, response: errors }
  }, async (request, reply) => {
    const { password, mnemonic, words, force } = request.body
    const result = mnemonic == null
      ? await node.wallet.create({ password, words, force })
      : { ...(await node.wallet.import({ mnemonic, password, force })), mnemonic: undefined }
    node.useWallet(result.address)
    return await reply.code(201).send({ address: result.address, mnemonic: result.mnemonic })
  })

  app.post<{ Body: { password: string } }>(`${prefix}/wallet/unlock`, { schema: { summary: 'Unlock the node wallet', body: UnlockBody, response: errors } }, async request => {
    const { address } = await node.wallet.unlock(request.body.password)
    node.useWallet(address)
    return await walletView()
  })

  app.post<{ Body: { to: string, amount: string } }>(`${prefix}/wallet/send`, {
    schema: { summary: 'Send CHI from the node wallet; returns the transaction hash', body: SendBody, response: errors }
  }, async (request, reply) => {
    const signer = node.wallet.signer()
    const value = parseChi(request.body.amount)
    const { chain, txpool } = chainService
    const nextBaseFee = chain.head.header.calcNextBaseFee()
    const tip = 1_000_000_000n
    const tx = createFeeMarket1559Tx({
      chainId: chain.chainId,
      nonce: await txpool.pendingNonce(signer.address),
      to: createAddressFromString(request.body.to),
      value,
      gasLimit: TRANSFER_GAS,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: nextBaseFee * 2n + tip
    }, { common: chain.common }).sign(hexToBytes(signer.privateKey as `0x${string}`))
    const hash = await chainService.submitTransaction(tx)
    return await reply.code(202).send({ hash, from: signer.address, to: request.body.to, value: value.toString() })
  })

  app.get(`${prefix}/wallet/history`, { schema: { summary: 'Transfers to and from the node wallet, newest first' } }, async () => {
    const address = await node.wallet.address().catch(() => undefined)
    if (address == null) throw new ChiralError('NO_WALLET', 'no wallet yet: create one with chiral wallet new', 404)
    return await node.accountHistory.list(address)
  })

  const miningView = (): Record<string, unknown> => ({
    mining: chainService.miner.mining,
    threads: chainService.miner.threads,
    hashrate: Math.round(chainService.miner.hashrate),
    coinbase: chainService.miner.coinbase.toString(),
    blocksMined: chainService.miner.minedCount
  })

  app.get(`${prefix}/mining`, { schema: { summary: 'Mining state, threads, hashrate and blocks found' } }, async () => miningView())

  app.post<{ Body: { threads?: number } }>(`${prefix}/mining/start`, { schema: { summary: 'Start mining', body: MiningStartBody, response: errors } }, async request => {
    chainService.miner.start(request.body.threads)
    return miningView()
  })

  app.post(`${prefix}/mining/stop`, { schema: { summary: 'Stop mining' } }, async () => {
    await chainService.miner.stop()
    return miningView()
  })
}
