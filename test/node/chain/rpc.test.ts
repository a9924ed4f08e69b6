import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'
import { expect } from 'chai'
import { JsonRpcProvider, Wallet, id as eventTopic, keccak256, parseEther, type TransactionRequest } from 'ethers'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { Chain } from '../../../node/chain/chain.js'
import { EthashCacheStore, MinerPool, sealHash, verifyPow } from '../../../node/chain/ethash/index.js'
import { loadGenesis } from '../../../node/chain/genesis.js'
import { Miner } from '../../../node/chain/miner.js'
import { createRpcServer, type RpcServer } from '../../../node/chain/rpc/server.js'
import { TxPool } from '../../../node/chain/txpool.js'
import { Database } from '../../../node/db/database.js'
import { silentLogger } from '../../../node/util/log.js'

/** Funded in the dev genesis: accounts 0 and 1 of the "test test ... junk" mnemonic. */
const SENDER_KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const SECOND_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
const COINBASE = '0x00000000000000000000000000000000c0ffee00'
const DASHBOARD_ORIGIN = 'http://dashboard.chiral.test'
const GWEI = 1_000_000_000n

const PING_TOPIC = eventTopic('Ping(uint256)')
const DEPLOYED_TOPIC = eventTopic('Deployed()')
const REVERT_DATA = '0xdeadbeef'

/**
 * A contract in raw EVM bytecode. Its constructor emits Deployed(); a call with data emits
 * Ping with the first calldata word as log data and returns 42; a call without data reverts
 * with 0xdeadbeef.
 */
function contractInitCode (): string {
  const runtime = [
    '36', '6011', '57', // if calldata: jump to 0x11
    `63${REVERT_DATA.slice(2)}`, '6000', '52', '6004', '601c', 'fd', // revert(28, 4) with 0xdeadbeef
    '5b', '600035', '600052', // 0x11: mem[0] = calldata[0]
    `7f${PING_TOPIC.slice(2)}`, '6020', '6000', 'a1', // log1(0, 32, Ping)
    '602a', '600052', '6020', '6000', 'f3' // return 42
  ].join('')
  const runtimeLength = runtime.length / 2
  const constructor = [`7f${DEPLOYED_TOPIC.slice(2)}`, '6000', '6000', 'a1', `60${byte(runtimeLength)}`, '80', '60XX', '6000', '39', '6000', 'f3'].join('')
  const withOffset = constructor.replace('60XX', `60${byte(constructor.length / 2)}`)
  return `0x${withOffset}${runtime}`
}

function byte (value: number): string {
  return value.toString(16).padStart(2, '0')
}

/** Shared by test runs, so the epoch-0 light cache is built once per machine. */
const ETHASH_CACHE_DIR = join(tmpdir(), 'chiral-ethash-test-cache')

/** JSON answers, whose shapes the assertions check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any

interface RpcReply { id?: unknown, result?: Json, error?: { code: number, message: string, data?: unknown } }

describe('Ethereum JSON-RPC server (in process)', function () {
  this.timeout(60_000)

  let home: string
  let db: Database
  let chain: Chain
  let txpool: TxPool
  let server: RpcServer
  let url: string
  let wsUrl: string
  let provider: JsonRpcProvider
  let caches: EthashCacheStore
  let search: MinerPool
  const relayed: TypedTransaction[] = []
  let nextId = 1

  before(async function () {
    this.timeout(120_000)
    caches = new EthashCacheStore(ETHASH_CACHE_DIR)
    await caches.getCache(0)
    search = new MinerPool(caches, { threads: 1 })
    home = mkdtempSync(join(tmpdir(), 'chiral-rpc-test-'))
    db = new Database(home)
    await db.open()
    const spec = loadGenesis('dev')
    chain = new Chain({ db, spec, verifyPow: header => verifyPow(header, caches), log: silentLogger })
    await chain.open()
    txpool = new TxPool(chain)
    const miner = new Miner(chain, txpool, search, block => sealHash(block.header), createAddressFromString(COINBASE), silentLogger)
    server = createRpcServer({
      backend: { chain, txpool, miner, peerCount: () => 3, syncStatus: () => false, onLocalTransaction: tx => { relayed.push(tx) } },
      host: '127.0.0.1',
      port: 0,
      log: silentLogger,
      allowedOrigins: [DASHBOARD_ORIGIN]
    })
    ;({ url, wsUrl } = await server.start())
    provider = new JsonRpcProvider(url, spec.chainId, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 })
  })

  after(async function () {
    provider?.destroy()
    await server?.stop()
    await search?.stop()
    await db?.close()
    rmSync(home, { recursive: true, force: true })
  })

  /** Mines the pool's transactions into a block with real proof of work (dev difficulty is tiny). */
  async function mineBlock (): Promise<Block> {
    const { block } = await chain.buildTemplate(await txpool.executable(), createAddressFromString(COINBASE), BigInt(Math.floor(Date.now() / 1000)))
    const seal = await search.mine({ sealHash: sealHash(block.header), blockNumber: block.header.number, difficulty: block.header.difficulty })
    if (seal == null) throw new Error('no seal found')
    const sealed = chain.seal(block, seal.nonce, seal.mixHash)
    expect(await chain.importBlock(sealed)).to.equal('imported-head')
    return sealed
  }

  async function post (body: string, headers: Record<string, string> = {}): Promise<Response> {
    return await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  }

  async function rpc (method: string, params: unknown[] = []): Promise<RpcReply> {
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }))
    return await response.json() as RpcReply
  }

  async function result (method: string, params: unknown[] = []): Promise<Json> {
    const reply = await rpc(method, params)
    if (reply.error != null) throw new Error(`${method} failed: ${reply.error.message}`)
    return reply.result
  }

  async function signed (key: string, request: TransactionRequest): Promise<string> {
    const wallet = new Wallet(key)
    return await wallet.signTransaction({ chainId: 47475, type: 2, gasLimit: 21_000, maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: GWEI, value: 1, to: COINBASE, ...request })
  }

  describe('transactions through ethers', function () {
    it('confirms a transfer with exact balances', async function () {
      const wallet = new Wallet(SENDER_KEY, provider)
      const recipient = Wallet.createRandom().address
      const value = parseEther('1.5')
      const senderBefore = await provider.getBalance(wallet.address)
      const sent = await wallet.sendTransaction({ to: recipient, value })
      expect(relayed.map(tx => tx.hash())).to.deep.include(hexToBytes(sent.hash as `0x${string}`))
      const pending = await result('eth_getTransactionByHash', [sent.hash])
      expect(pending).to.include({ hash: sent.hash, blockHash: null, blockNumber: null })
      expect(await result('eth_getTransactionCount', [wallet.address, 'pending'])).to.equal('0x1')
      expect(await result('eth_getTransactionCount', [wallet.address, 'latest'])).to.equal('0x0')

      const block = await mineBlock()
      const receipt = await sent.wait()
      if (receipt == null) throw new Error('no receipt')
      expect(receipt.status).to.equal(1)
      expect(receipt.blockNumber).to.equal(Number(block.header.number))
      expect(await provider.getBalance(recipient)).to.equal(value)
      expect(await provider.getBalance(wallet.address)).to.equal(senderBefore - value - receipt.gasUsed * receipt.gasPrice)
      expect(receipt.gasUsed).to.equal(21_000n)
    })

    it('answers receipts, transactions and blocks in the standard shapes', async function () {
      const wallet = new Wallet(SENDER_KEY, provider)
      const sent = await wallet.sendTransaction({ to: COINBASE, value: 1 })
      const block = await mineBlock()
      const receipt = await result('eth_getTransactionReceipt', [sent.hash])
      expect(receipt).to.include({ transactionHash: sent.hash, transactionIndex: '0x0', blockNumber: `0x${block.header.number.toString(16)}`, status: '0x1', type: '0x2', gasUsed: '0x5208', cumulativeGasUsed: '0x5208', contractAddress: null })
      expect(receipt.from).to.equal(wallet.address.toLowerCase())
      expect(receipt.logsBloom).to.match(/^0x[0-9a-f]{512}$/)
      expect(BigInt(receipt.effectiveGasPrice)).to.equal((block.header.baseFeePerGas ?? 0n) + GWEI)

      const full = await result('eth_getBlockByNumber', ['latest', true])
      expect(full).to.include({ hash: receipt.blockHash, number: receipt.blockNumber, miner: COINBASE, nonce: bytesToHex(block.header.nonce), mixHash: bytesToHex(block.header.mixHash) })
      expect(full).to.include.keys('difficulty', 'totalDifficulty', 'mixHash', 'baseFeePerGas', 'withdrawalsRoot', 'blobGasUsed', 'excessBlobGas', 'parentBeaconBlockRoot', 'size', 'stateRoot', 'receiptsRoot', 'transactionsRoot', 'logsBloom', 'sha3Uncles', 'extraData', 'gasLimit', 'gasUsed', 'timestamp')
      expect(full.withdrawals).to.deep.equal([])
      expect(full.uncles).to.deep.equal([])
      expect(full.transactions[0]).to.include({ hash: sent.hash, blockHash: full.hash, transactionIndex: '0x0', from: wallet.address.toLowerCase(), gasPrice: receipt.effectiveGasPrice })
      expect(await result('eth_getBlockByHash', [full.hash, false])).to.deep.include({ transactions: [sent.hash] })
      expect(await result('eth_getBlockTransactionCountByHash', [full.hash])).to.equal('0x1')
      expect(await result('eth_getBlockTransactionCountByNumber', [full.number])).to.equal('0x1')
      expect(await result('eth_getUncleCountByBlockNumber', [full.number])).to.equal('0x0')
      expect(await result('eth_getBlockByNumber', ['0xffffff', false])).to.equal(null)
      expect(await result('eth_getTransactionReceipt', [`0x${'11'.repeat(32)}`])).to.equal(null)
      const td = BigInt(full.totalDifficulty)
      const genesis = await result('eth_getBlockByNumber', ['earliest', false])
      expect(td > BigInt(genesis.totalDifficulty)).to.equal(true)
    })

    it('answers the node and fee methods', async function () {
      expect(await result('eth_chainId')).to.equal('0xb973')
      expect(await result('net_version')).to.equal('47475')
      expect(await result('net_peerCount')).to.equal('0x3')
      expect(await result('net_listening')).to.equal(true)
      expect(await result('eth_syncing')).to.equal(false)
      expect(await result('eth_accounts')).to.deep.equal([])
      expect(await result('eth_mining')).to.equal(false)
      expect(await result('eth_hashrate')).to.equal('0x0')
      expect(await result('eth_coinbase')).to.equal(COINBASE)
      expect(await result('web3_clientVersion')).to.match(/^Chiral\/v\d/)
      expect(await result('web3_sha3', ['0x68656c6c6f'])).to.equal(keccak256('0x68656c6c6f'))
      const tip = BigInt(await result('eth_maxPriorityFeePerGas'))
      expect(tip).to.equal(GWEI)
      expect(BigInt(await result('eth_gasPrice'))).to.equal(chain.head.header.calcNextBaseFee() + tip)
      const history = await result('eth_feeHistory', ['0x3', 'latest', [10, 90]])
      expect(history.baseFeePerGas).to.have.length(4)
      expect(history.gasUsedRatio).to.have.length(3)
      expect(history.reward).to.have.length(3)
      expect(history.reward[2]).to.deep.equal(['0x3b9aca00', '0x3b9aca00'])
      expect(history.oldestBlock).to.equal(`0x${(chain.head.header.number - 2n).toString(16)}`)
      expect(history.baseFeePerGas[3]).to.equal(`0x${chain.head.header.calcNextBaseFee().toString(16)}`)
    })
  })

  describe('transaction pool rejections', function () {
    async function sendRaw (raw: string): Promise<RpcReply> {
      return await rpc('eth_sendRawTransaction', [raw])
    }

    it('uses the standard texts with code -32000', async function () {
      const cases: Array<[string, string]> = [
        [await signed(SENDER_KEY, { nonce: 0 }), 'nonce too low'],
        [await signed(Wallet.createRandom().privateKey, { nonce: 0 }), 'insufficient funds for gas * price + value'],
        [await signed(SECOND_KEY, { nonce: 0, gasLimit: 20_000 }), 'intrinsic gas too low'],
        [await signed(SECOND_KEY, { nonce: 0, gasLimit: 30_000_001 }), 'exceeds block gas limit']
      ]
      for (const [raw, message] of cases) {
        expect((await sendRaw(raw)).error).to.deep.equal({ code: -32000, message })
      }
    })

    it('refuses a replacement without a fee bump, and ethers classifies the errors', async function () {
      const first = await sendRaw(await signed(SECOND_KEY, { nonce: 0, value: 1 }))
      expect(first.result).to.match(/^0x[0-9a-f]{64}$/)
      const replacement = await signed(SECOND_KEY, { nonce: 0, value: 2 })
      expect((await sendRaw(replacement)).error).to.deep.equal({ code: -32000, message: 'replacement transaction underpriced' })
      await expectEthersError(provider.broadcastTransaction(replacement), 'REPLACEMENT_UNDERPRICED')
      await expectEthersError(provider.broadcastTransaction(await signed(SENDER_KEY, { nonce: 0 })), 'NONCE_EXPIRED')
      await expectEthersError(provider.broadcastTransaction(await signed(Wallet.createRandom().privateKey, { nonce: 0 })), 'INSUFFICIENT_FUNDS')
      await mineBlock()
      expect(await result('eth_getTransactionReceipt', [first.result])).to.include({ status: '0x1' })
    })

    async function expectEthersError (promise: Promise<unknown>, code: string): Promise<void> {
      const error = await promise.then(() => undefined, (err: unknown) => err as { code?: string })
      expect(error?.code).to.equal(code)
    }
  })

  describe('protocol errors', function () {
    it('answers a batch in order, leaving out notifications', async function () {
      const response = await post(JSON.stringify([
        { jsonrpc: '2.0', id: 'a', method: 'eth_chainId' },
        { jsonrpc: '2.0', method: 'eth_blockNumber' },
        { jsonrpc: '2.0', id: 2, method: 'eth_nope' },
        { jsonrpc: '2.0', id: 3, method: 'eth_blockNumber', params: [] },
        { id: 4, method: 'eth_chainId' }
      ]))
      const replies = await response.json() as RpcReply[]
      expect(replies.map(reply => reply.id)).to.deep.equal(['a', 2, 3, 4])
      expect(replies[0]?.result).to.equal('0xb973')
      expect(replies[1]?.error?.code).to.equal(-32601)
      expect(replies[2]?.result).to.equal(`0x${chain.head.header.number.toString(16)}`)
      expect(replies[3]?.error?.code).to.equal(-32600)
    })

    it('refuses empty and oversized batches', async function () {
      expect(((await (await post('[]')).json()) as RpcReply).error?.code).to.equal(-32600)
      const batch = Array.from({ length: 101 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'eth_chainId' }))
      expect(((await (await post(JSON.stringify(batch))).json()) as RpcReply).error?.code).to.equal(-32600)
    })

    it('answers malformed JSON with -32700', async function () {
      const reply = await (await post('{"jsonrpc":"2.0","id":1,"method":')).json() as RpcReply
      expect(reply.id).to.equal(null)
      expect(reply.error?.code).to.equal(-32700)
    })

    it('answers unknown methods with -32601', async function () {
      expect((await rpc('eth_doesNotExist')).error?.code).to.equal(-32601)
    })

    it('never serves miner_, admin_, personal_ or debug_ methods', async function () {
      for (const method of ['miner_setEtherbase', 'miner_start', 'admin_peers', 'admin_addPeer', 'personal_unlockAccount', 'personal_sign', 'debug_traceTransaction', 'debug_setHead']) {
        expect((await rpc(method, [COINBASE])).error?.code, method).to.equal(-32601)
      }
    })

    it('validates every parameter with -32602', async function () {
      const bad: Array<[string, unknown[]]> = [
        ['eth_getBalance', ['0x1234', 'latest']],
        ['eth_getBalance', [COINBASE, 'newest']],
        ['eth_getBalance', [COINBASE, '0x01']],
        ['eth_getBalance', [COINBASE, 'latest', 'extra']],
        ['eth_getBalance', []],
        ['eth_getBlockByHash', ['0x1234', false]],
        ['eth_getBlockByNumber', ['latest', 'yes']],
        ['eth_getTransactionReceipt', ['0xzz']],
        ['eth_sendRawTransaction', ['0x123']],
        ['eth_getLogs', [{ topics: [null, null, null, null, null] }]],
        ['eth_getLogs', [{ blockHash: `0x${'00'.repeat(32)}`, fromBlock: '0x0' }]],
        ['eth_getLogs', [{ fromBlock: '0x2', toBlock: '0x1' }]],
        ['eth_call', [{ to: COINBASE, gasPrice: '0x1', maxFeePerGas: '0x1' }]],
        ['eth_feeHistory', ['0x2', 'latest', [50, 10]]],
        ['eth_getStorageAt', [COINBASE, `0x${'00'.repeat(33)}`, 'latest']],
        ['eth_chainId', 'not-an-array' as never]
      ]
      for (const [method, params] of bad) {
        const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))
        expect(((await response.json()) as RpcReply).error?.code, `${method} ${JSON.stringify(params)}`).to.equal(-32602)
      }
    })

    it('rejects an oversized body with 413', async function () {
      const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(1024 * 1024)] }))
      expect(response.status).to.equal(413)
      expect(((await response.json()) as RpcReply).error?.code).to.equal(-32600)
    })

    it('serves only allowed browser origins', async function () {
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId' })
      const foreign = await post(body, { origin: 'https://evil.example' })
      expect(foreign.status).to.equal(403)
      expect(foreign.headers.get('access-control-allow-origin')).to.equal(null)
      const dashboard = await post(body, { origin: DASHBOARD_ORIGIN })
      expect(dashboard.status).to.equal(200)
      expect(dashboard.headers.get('access-control-allow-origin')).to.equal(DASHBOARD_ORIGIN)
      const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: DASHBOARD_ORIGIN } })
      expect(preflight.status).to.equal(204)
      const socket = new WebSocket(wsUrl, { origin: 'https://evil.example' })
      const refused = await new Promise<number>(resolve => { socket.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0) }) })
      expect(refused).to.equal(403)
    })
  })

  describe('a contract deployed from raw bytecode', function () {
    let contract: string
    let deployBlock: Block
    let pingBlock: Block

    before(async function () {
      const deployer = new Wallet(SENDER_KEY, provider)
      const deploy = await deployer.sendTransaction({ data: contractInitCode() })
      deployBlock = await mineBlock()
      const receipt = await deploy.wait()
      if (receipt?.contractAddress == null) throw new Error('no contract address')
      contract = receipt.contractAddress.toLowerCase()
      const ping = await deployer.sendTransaction({ to: contract, data: `0x${'00'.repeat(31)}07` })
      pingBlock = await mineBlock()
      expect((await ping.wait())?.status).to.equal(1)
    })

    it('returns its events from eth_getLogs with address and topic filters', async function () {
      const all = await result('eth_getLogs', [{ fromBlock: '0x0', toBlock: 'latest', address: contract }])
      expect(all.map((log: { topics: string[] }) => log.topics[0])).to.deep.equal([DEPLOYED_TOPIC, PING_TOPIC])
      const [deployed, ping] = all
      expect(deployed).to.include({ address: contract, data: '0x', blockHash: bytesToHex(deployBlock.hash()), logIndex: '0x0', transactionIndex: '0x0', removed: false })
      expect(ping).to.include({ data: `0x${'00'.repeat(31)}07`, blockNumber: `0x${pingBlock.header.number.toString(16)}` })
      const receipt = await result('eth_getTransactionReceipt', [ping.transactionHash])
      expect(receipt.logs).to.deep.equal([ping])

      const topics = async (filter: unknown[]): Promise<unknown[]> => await result('eth_getLogs', [{ fromBlock: '0x0', topics: filter }])
      expect(await topics([PING_TOPIC])).to.deep.equal([ping])
      expect(await topics([[PING_TOPIC, DEPLOYED_TOPIC]])).to.deep.equal([deployed, ping])
      expect(await topics([null])).to.deep.equal([deployed, ping])
      expect(await topics([null, PING_TOPIC])).to.deep.equal([])
      expect(await topics([eventTopic('Other()')])).to.deep.equal([])
      expect(await result('eth_getLogs', [{ fromBlock: '0x0', address: [COINBASE, contract], topics: [PING_TOPIC] }])).to.deep.equal([ping])
      expect(await result('eth_getLogs', [{ fromBlock: '0x0', address: COINBASE }])).to.deep.equal([])
      expect(await result('eth_getLogs', [{ blockHash: deployed.blockHash }])).to.deep.equal([deployed])
      expect(await provider.getLogs({ address: contract, topics: [PING_TOPIC], fromBlock: 0 })).to.have.length(1)
    })

    it('limits the eth_getLogs block range', async function () {
      const reply = await rpc('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x1388' }])
      expect(reply.error?.code).to.equal(-32000)
      expect(reply.error?.message).to.match(/block range too large/)
    })

    it('runs eth_call and eth_estimateGas against it', async function () {
      const data = `0x${'00'.repeat(31)}09`
      expect(await result('eth_call', [{ to: contract, data }, 'latest'])).to.equal(`0x${'00'.repeat(31)}2a`)
      expect(await provider.call({ to: contract, data })).to.equal(`0x${'00'.repeat(31)}2a`)
      expect(await result('eth_getCode', [contract, 'latest'])).to.match(/^0x36601157/)
      expect(await result('eth_getCode', [contract, `0x${(deployBlock.header.number - 1n).toString(16)}`])).to.equal('0x')

      const reverted = await rpc('eth_call', [{ to: contract }])
      expect(reverted.error).to.deep.equal({ code: 3, message: 'execution reverted', data: REVERT_DATA })
      expect((await rpc('eth_estimateGas', [{ to: contract }])).error).to.deep.equal({ code: 3, message: 'execution reverted', data: REVERT_DATA })

      const estimate = BigInt(await result('eth_estimateGas', [{ from: new Wallet(SENDER_KEY).address, to: contract, data }]))
      expect(estimate > 21_000n + 375n * 2n).to.equal(true)
      expect(await result('eth_call', [{ to: contract, data, gas: `0x${estimate.toString(16)}` }])).to.equal(`0x${'00'.repeat(31)}2a`)
      const tooLittle = await rpc('eth_call', [{ to: contract, data, gas: `0x${(estimate - 1n).toString(16)}` }])
      expect(tooLittle.error?.code).to.equal(-32000)
      expect(await result('eth_estimateGas', [{ to: COINBASE, value: '0x1' }])).to.equal('0x5208')
    })

    it('reads storage, code and balances at past blocks', async function () {
      expect(await result('eth_getStorageAt', [contract, '0x0', 'latest'])).to.equal(`0x${'00'.repeat(32)}`)
      const earlier = `0x${(deployBlock.header.number - 1n).toString(16)}`
      expect(await result('eth_getTransactionCount', [new Wallet(SENDER_KEY).address, { blockNumber: earlier }])).to.not.equal(await result('eth_getTransactionCount', [new Wallet(SENDER_KEY).address, 'latest']))
      expect(await result('eth_getBalance', [COINBASE, { blockHash: bytesToHex(deployBlock.hash()) }])).to.match(/^0x[1-9a-f]/)
      expect((await rpc('eth_getBalance', [COINBASE, '0xffffff'])).error).to.deep.equal({ code: -32000, message: 'header not found' })
    })
  })

  describe('WebSocket', function () {
    async function open (): Promise<{ socket: WebSocket, call: (method: string, params?: unknown[]) => Promise<RpcReply>, next: (subscription: string) => Promise<Json> }> {
      const socket = new WebSocket(wsUrl)
      await new Promise<void>((resolve, reject) => { socket.once('open', resolve).once('error', reject) })
      const pending = new Map<unknown, (reply: RpcReply) => void>()
      const notifications: Array<{ subscription: string, result: unknown }> = []
      const waiting: Array<() => void> = []
      socket.on('message', raw => {
        const message = JSON.parse(String(raw)) as RpcReply & { method?: string, params?: { subscription: string, result: unknown } }
        if (message.method === 'eth_subscription' && message.params != null) {
          notifications.push(message.params)
          for (const wake of waiting.splice(0)) wake()
        } else pending.get(message.id)?.(message)
      })
      const call = async (method: string, params: unknown[] = []): Promise<RpcReply> => {
        const id = nextId++
        return await new Promise(resolve => {
          pending.set(id, resolve)
          socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
        })
      }
      const next = async (subscription: string): Promise<unknown> => {
        for (;;) {
          const index = notifications.findIndex(entry => entry.subscription === subscription)
          if (index >= 0) return notifications.splice(index, 1)[0]?.result
          await new Promise<void>(resolve => { waiting.push(resolve) })
        }
      }
      return { socket, call, next }
    }

    it('notifies newHeads subscribers when a block is imported', async function () {
      const { socket, call, next } = await open()
      const subscription = (await call('eth_subscribe', ['newHeads'])).result as string
      expect(subscription).to.match(/^0x[0-9a-f]{32}$/)
      const block = await mineBlock()
      const head = await next(subscription)
      expect(head).to.include({ number: `0x${block.header.number.toString(16)}`, hash: bytesToHex(block.hash()), miner: COINBASE })
      expect((await call('eth_unsubscribe', [subscription])).result).to.equal(true)
      expect((await call('eth_unsubscribe', [subscription])).result).to.equal(false)
      expect((await call('eth_chainId')).result).to.equal('0xb973')
      socket.close()
    })

    it('notifies logs subscribers of matching events only', async function () {
      const { socket, call, next } = await open()
      const deploy = await new Wallet(SENDER_KEY, provider).sendTransaction({ data: contractInitCode() })
      await mineBlock()
      const contract = (await deploy.wait())?.contractAddress?.toLowerCase()
      const pings = (await call('eth_subscribe', ['logs', { address: contract, topics: [PING_TOPIC] }])).result as string
      const elsewhere = (await call('eth_subscribe', ['logs', { address: COINBASE }])).result as string
      const sent = await new Wallet(SENDER_KEY, provider).sendTransaction({ to: contract, data: `0x${'00'.repeat(31)}05` })
      await mineBlock()
      const log = await next(pings)
      expect(log).to.include({ address: contract, transactionHash: sent.hash, data: `0x${'00'.repeat(31)}05`, removed: false })
      expect((await call('eth_unsubscribe', [elsewhere])).result).to.equal(true)
      socket.close()
    })

    it('refuses eth_subscribe over HTTP and oversized WebSocket messages', async function () {
      expect((await rpc('eth_subscribe', ['newHeads'])).error?.code).to.equal(-32001)
      const { socket, call } = await open()
      expect((await call('admin_peers')).error?.code).to.equal(-32601)
      const closed = new Promise<number>(resolve => { socket.once('close', code => { resolve(code) }) })
      socket.send('x'.repeat(1024 * 1024 + 1))
      expect(await closed).to.equal(1009)
    })
  })

  describe('remote mining', function () {
    it('hands out work and refuses a wrong solution', async function () {
      const work = await result('eth_getWork') as string[]
      expect(work).to.have.length(4)
      expect(work[0]).to.match(/^0x[0-9a-f]{64}$/)
      expect(work[1]).to.match(/^0x[0-9a-f]{64}$/)
      expect(work[2]).to.match(/^0x[0-9a-f]{64}$/)
      const head = chain.head.header.number
      expect(await result('eth_submitWork', ['0x0000000000000001', work[0], `0x${'00'.repeat(32)}`])).to.equal(false)
      expect(await result('eth_submitWork', ['0x0000000000000000', `0x${'11'.repeat(32)}`, `0x${'00'.repeat(32)}`])).to.equal(false)
      expect(chain.head.header.number).to.equal(head)
      expect(await result('eth_submitHashrate', ['0x500', `0x${'ab'.repeat(32)}`])).to.equal(true)
      expect(await result('eth_hashrate')).to.equal('0x500')
      expect((await rpc('eth_submitWork', ['0x01', work[0], work[1]])).error?.code).to.equal(-32602)
    })
  })
})
