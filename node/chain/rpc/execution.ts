import { createBlock, type Block } from '@ethereumjs/block'
import { createFeeMarket1559Tx, type FeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createZeroAddress, type Address } from '@ethereumjs/util'
import { runTx, type RunTxResult, type VM } from '@ethereumjs/vm'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { RPC_EXECUTION_BUDGET_MS, RPC_EXECUTION_SLICE_MS, RPC_GAS_CAP } from '../../config/constants.js'
import type { Chain } from '../chain.js'
import { ExecutionRevertedError, ServerError } from './errors.js'
import type { CallRequest } from './params.js'

/** Wall time left for EVM execution in one request (a batch shares one). */
export interface ExecutionBudget {
  remainingMs: number
}

export function executionBudget (): ExecutionBudget {
  return { remainingMs: RPC_EXECUTION_BUDGET_MS }
}

/** The return data of eth_call; reverts and halts are thrown as geth reports them. */
export async function call (chain: Chain, request: CallRequest, block: Block, budget = executionBudget()): Promise<Uint8Array> {
  const vm = sliced(await chain.vmAt(block), budget)
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
export async function estimateGas (chain: Chain, request: CallRequest, block: Block, budget = executionBudget()): Promise<bigint> {
  const vm = sliced(await chain.vmAt(block), budget)
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
      .then(result => result.execResult.exceptionError == null, (err: unknown) => {
        if (err instanceof ExecutionTimeoutError) throw err
        return false
      })
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
    if (timedOut.has(vm)) throw new ExecutionTimeoutError()
    throw new ServerError((err as Error).message.split(' (vm hf=')[0] ?? 'execution failed')
  } finally {
    await vm.stateManager.revert()
  }
}

class ExecutionTimeoutError extends ServerError {
  constructor () {
    super(`execution aborted (timeout = ${RPC_EXECUTION_BUDGET_MS / 1000}s)`)
  }
}

class BudgetSpent extends Error {}

/** VMs whose budget ran out: their runs fail with ExecutionTimeoutError. */
const timedOut = new WeakSet<VM>()

/** Jumps and calls: a run without them is at most one contract's code long. */
const SLICE_POINTS = [0x56, 0x57, 0xf0, 0xf1, 0xf2, 0xf4, 0xf5, 0xfa]
/** Slice points between looks at the clock. */
const CLOCK_EVERY = 256

interface OpcodeEntry {
  opcodeInfo: { isAsync: boolean }
  opHandler: (runState: unknown, common: unknown) => unknown
  gasHandler?: unknown
}

/**
 * Makes `vm` run in slices of RPC_EXECUTION_SLICE_MS: its jump and call opcodes, every
 * CLOCK_EVERY of them, look at the clock, yield to the event loop once the slice is used up, and
 * abort the run once `budget` is spent. The EVM looks opcodes up in its own map on every step,
 * so wrapping those entries (and again when a hardfork change rebuilds the map) costs a
 * counter per jump; an EVM `step` listener would build an event object on every step instead.
 */
function sliced (vm: VM, budget: ExecutionBudget): VM {
  const evm = vm.evm as unknown as { _opcodeMap: OpcodeEntry[] }
  let count = 0
  let sliceStart = performance.now()
  let lastLook = sliceStart
  const look = async (): Promise<void> => {
    const now = performance.now()
    budget.remainingMs -= now - lastLook
    lastLook = now
    if (budget.remainingMs <= 0) {
      timedOut.add(vm)
      throw new BudgetSpent('execution budget spent')
    }
    if (now - sliceStart < RPC_EXECUTION_SLICE_MS) return
    await yieldToLoop()
    // Time spent waiting for the loop is not the call's.
    sliceStart = lastLook = performance.now()
  }
  const wrap = (): void => {
    for (const code of SLICE_POINTS) {
      const entry = evm._opcodeMap[code]
      if (entry == null) continue
      const { opHandler } = entry
      const opcodeInfo = Object.assign(Object.create(Object.getPrototypeOf(entry.opcodeInfo) as object), entry.opcodeInfo, { isAsync: true })
      evm._opcodeMap[code] = {
        ...entry,
        opcodeInfo,
        // Marked async so the interpreter awaits it; between looks it returns what the
        // original returns (nothing for a jump), which is cheaper than a promise per jump.
        opHandler: (runState, common) => {
          if (++count % CLOCK_EVERY !== 0) return opHandler(runState, common)
          return look().then(() => opHandler(runState, common))
        }
      }
    }
  }
  wrap()
  vm.common.events.on('hardforkChanged', wrap)
  return vm
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
