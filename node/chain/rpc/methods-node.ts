import { keccak256 } from 'ethers'
import type { Miner } from '../miner.js'
import { ServerError } from './errors.js'
import { toQuantity } from './format.js'
import { method, type RpcContext, type RpcMethod } from './method.js'
import { data, hash32, nonce8, quantity } from './params.js'

/** web3_, net_ and the node-level eth_ methods: identity, peers, sync, mining and remote work. */
export const nodeMethods: Record<string, RpcMethod> = {
  web3_clientVersion: method([], ({ clientVersion }) => clientVersion),
  web3_sha3: method([data], (_, input) => keccak256(input)),
  net_version: method([], ({ backend }) => backend.chain.chainId.toString()),
  net_listening: method([], () => true),
  net_peerCount: method([], ({ backend }) => toQuantity(backend.peerCount())),
  eth_chainId: method([], ({ backend }) => toQuantity(backend.chain.chainId)),
  eth_syncing: method([], ({ backend }) => {
    const status = backend.syncStatus()
    if (status === false) return false
    return { startingBlock: toQuantity(status.startingBlock), currentBlock: toQuantity(status.currentBlock), highestBlock: toQuantity(status.highestBlock) }
  }),
  // The node holds no keys for RPC callers: transactions arrive signed.
  eth_accounts: method([], () => []),
  eth_mining: method([], ({ backend }) => backend.miner?.mining ?? false),
  eth_hashrate: method([], ({ backend }) => toQuantity(Math.round(backend.miner?.hashrate ?? 0))),
  eth_coinbase: method([], context => requireMiner(context).coinbase.toString()),
  eth_getWork: method([], async context => await requireMiner(context).getWork()),
  eth_submitWork: method([nonce8, hash32, hash32], async (context, nonce, sealHash, mixHash) => await requireMiner(context).submitWork(nonce, sealHash, mixHash)),
  eth_submitHashrate: method([quantity, hash32], (context, rate, id) => {
    requireMiner(context).submitHashrate(rate, id)
    return true
  })
}

function requireMiner ({ backend }: RpcContext): Miner {
  if (backend.miner == null) throw new ServerError('mining is not enabled on this node')
  return backend.miner
}
