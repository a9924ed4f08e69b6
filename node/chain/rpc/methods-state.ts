import { bigIntToBytes, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import { requireBlock } from './blocks.js'
import { call, estimateGas } from './execution.js'
import { toQuantity } from './format.js'
import { method, type RpcMethod } from './method.js'
import { LATEST, address, blockId, callRequest, optional, storageSlot } from './params.js'

const latestOr = optional(blockId, LATEST)

/** Account state at a block, and calls against it. */
export const stateMethods: Record<string, RpcMethod> = {
  eth_getBalance: method([address, latestOr], async ({ backend: { chain } }, account, block) => {
    return toQuantity(await chain.balanceOf(account, await requireBlock(chain, block)))
  }),
  eth_getTransactionCount: method([address, latestOr], async ({ backend: { chain, txpool } }, account, block) => {
    // 'pending' counts the sender's queued pool transactions, so wallets can send several in a row.
    if ('tag' in block && block.tag === 'pending') return toQuantity(await txpool.pendingNonce(account.toString()))
    return toQuantity(await chain.nonceOf(account, await requireBlock(chain, block)))
  }),
  eth_getCode: method([address, latestOr], async ({ backend: { chain } }, account, block) => {
    const state = await chain.stateAt(await requireBlock(chain, block))
    return bytesToHex(await state.getCode(account))
  }),
  eth_getStorageAt: method([address, storageSlot, latestOr], async ({ backend: { chain } }, account, slot, block) => {
    const state = await chain.stateAt(await requireBlock(chain, block))
    const key = setLengthLeft(bigIntToBytes(slot), 32)
    return bytesToHex(setLengthLeft(await state.getStorage(account, key), 32))
  }),
  eth_call: method([callRequest, latestOr], async ({ backend: { chain }, executionBudget }, request, block) => {
    return bytesToHex(await call(chain, request, await requireBlock(chain, block), executionBudget))
  }),
  eth_estimateGas: method([callRequest, latestOr], async ({ backend: { chain }, executionBudget }, request, block) => {
    return toQuantity(await estimateGas(chain, request, await requireBlock(chain, block), executionBudget))
  })
}
