import { createBlock, type Block } from '@ethereumjs/block'
import { createFeeMarket1559Tx, type FeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createZeroAddress, type Address } from '@ethereumjs/util'
import { runTx, type RunTxResult, type VM } from '@ethereumjs/vm'
import type { Chain } from '../chain.js'
import { ExecutionRevertedError, ServerError } from './errors.js'
import type { CallRequest } from './params.js'

/** Upper bound on the gas of eth_call and eth_estimateGas, geth's default RPC gas cap. */
const RPC_GAS_CAP = 50_000_000n

/** The return data of eth_call; reverts and halts are thrown as geth reports them. */
export async function call (chain: Chain, request: CallRequest, block: Block): Promise<Uint8Array> {
  const vm = await chain.vmAt(block)
  const gas = min(request.gas ?? RPC_GAS_CAP, RPC_GAS_CAP)
  const result = await execute(vm, chain, request, block, gas)
  throwIfFailed(result)
  return result.execResult.returnValue
}

/**
 * The least gas limit with which the call succeeds, found as geth does: run once at the
 * highest allowed limit (failing there is an error), then binary search between the gas
 * that run used and that limit, since refunds and the 63/64 rule make the need exceed the use.
 */
export async function estimateGas (chain: Chain, request: CallRequest, block: Block): Promise<bigint> {
  const vm = await chain.vmAt(block)
  const intrinsic = unsignedTx(chain, request, RPC_GAS_CAP).getIntrinsicGas()
  let hi = await highestGas(vm, request, block)
  if (hi < intrinsic) throw new ServerError(`gas required exceeds allowance (${hi})`)
  const first = await execute(vm, chain, request, block, hi)
  if (first.execResult.exceptionError != null) {
    if (first.execResult.exceptionError.error === 'out of gas') throw new ServerError(`gas required exceeds allowance (${hi})`)
    throwIfFailed(first)
  }
  let lo = max(intrinsic, first.totalGasSpent) - 1n
  while (lo + 1n < hi) {
    // Most calls need little more than they use, so probe low before halving the range.
    const mid = min((lo + hi) / 2n, lo * 2n)
    const succeeded = await execute(vm, chain, request, block, mid)
      .then(result => result.execResult.exceptionError == null, () => false)
    if (succeeded) hi = mid
    else lo = mid
  }
  return hi
}

/** The request's gas, else the block gas limit; capped by what `from` can pay at its fee cap. */
async function highestGas (vm: VM, request: CallRequest, block: Block): Promise<bigint> {
  let hi = min(request.gas ?? block.header.gasLimit, RPC_GAS_CAP)
  const feeCap = request.gasPrice ?? request.maxFeePerGas ?? 0n
  if (feeCap > 0n) {
    const balance = (await vm.stateManager.getAccount(request.from ?? createZeroAddress()))?.balance ?? 0n
    if (request.value > balance) throw new ServerError('insufficient funds for transfer')
    hi = min(hi, (balance - request.value) / feeCap)
  }
  return hi
}

/** Runs the request as a transaction from `from` and rolls the state back afterwards. */
async function execute (vm: VM, chain: Chain, request: CallRequest, block: Block, gas: bigint): Promise<RunTxResult> {
  const tx = unsignedTx(chain, request, gas)
  await vm.stateManager.checkpoint()
  try {
    return await runTx(vm, { tx, block: callBlock(block, request), skipBalance: true, skipNonce: true, skipBlockGasLimitValidation: true, skipHardForkValidation: true })
  } catch (err) {
    throw new ServerError((err as Error).message.split(' (vm hf=')[0] ?? 'execution failed')
  } finally {
    await vm.stateManager.revert()
  }
}

/**
 * The request as an unsigned EIP-1559 transaction whose sender is `from` (the zero address if
 * absent): nonce and balance checks are skipped, so no signature is needed.
 */
function unsignedTx (chain: Chain, request: CallRequest, gas: bigint): FeeMarket1559Tx {
  const feeCap = request.gasPrice ?? request.maxFeePerGas ?? 0n
  const tip = request.gasPrice ?? request.maxPriorityFeePerGas ?? 0n
  const tx = createFeeMarket1559Tx({
    to: request.to,
    value: request.value,
    data: request.data,
    gasLimit: gas,
    maxFeePerGas: feeCap,
    maxPriorityFeePerGas: min(tip, feeCap),
    accessList: request.accessList
  }, { common: chain.common, freeze: false })
  const from: Address = request.from ?? createZeroAddress()
  tx.getSenderAddress = () => from
  return tx
}

/**
 * A call that names no fee runs against a zero base fee, as geth's eth_call does, so that
 * reading a contract needs no funded account; one that names a fee pays the real base fee.
 */
function callBlock (block: Block, request: CallRequest): Block {
  const paysFee = request.gasPrice != null || request.maxFeePerGas != null || request.maxPriorityFeePerGas != null
  if (paysFee || block.header.baseFeePerGas == null) return block
  return createBlock({ header: { ...block.header.toJSON(), baseFeePerGas: 0n } }, { common: block.common, setHardfork: false, skipConsensusFormatValidation: true })
}

function throwIfFailed (result: RunTxResult): void {
  const error = result.execResult.exceptionError
  if (error == null) return
  if (error.error === 'revert') throw new ExecutionRevertedError(revertReason(result.execResult.returnValue), bytesToHex(result.execResult.returnValue))
  throw new ServerError(error.error)
}

const ERROR_SELECTOR = '0x08c379a0'

/** The message of a Solidity `Error(string)` revert, if that is what the data holds. */
function revertReason (returnValue: Uint8Array): string | undefined {
  if (bytesToHex(returnValue.subarray(0, 4)) !== ERROR_SELECTOR) return undefined
  const body = returnValue.subarray(4)
  if (body.length < 64) return undefined
  const offset = Number(BigInt(bytesToHex(body.subarray(0, 32))))
  if (body.length < offset + 32) return undefined
  const length = Number(BigInt(bytesToHex(body.subarray(offset, offset + 32))))
  if (body.length < offset + 32 + length) return undefined
  return new TextDecoder().decode(body.subarray(offset + 32, offset + 32 + length))
}

function min (a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

function max (a: bigint, b: bigint): bigint {
  return a > b ? a : b
}
