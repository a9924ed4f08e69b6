import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, type PrefixedHexString } from '@ethereumjs/util'
import type { RunTxResult, TxReceipt } from '@ethereumjs/vm'

/** A transaction receipt as stored per block, in JSON-friendly hex. */
export interface StoredReceipt {
  transactionHash: PrefixedHexString
  from: PrefixedHexString
  to: PrefixedHexString | null
  type: number
  status: 0 | 1
  cumulativeGasUsed: PrefixedHexString
  gasUsed: PrefixedHexString
  effectiveGasPrice: PrefixedHexString
  contractAddress: PrefixedHexString | null
  logs: Array<{ address: PrefixedHexString, topics: PrefixedHexString[], data: PrefixedHexString }>
  logsBloom: PrefixedHexString
}

export function toStoredReceipt (tx: TypedTransaction, receipt: TxReceipt, result: RunTxResult, baseFee: bigint): StoredReceipt {
  const tip = 'maxPriorityFeePerGas' in tx ? min(tx.maxPriorityFeePerGas, tx.maxFeePerGas - baseFee) : (tx as { gasPrice: bigint }).gasPrice - baseFee
  return {
    transactionHash: bytesToHex(tx.hash()),
    from: tx.getSenderAddress().toString(),
    to: tx.to?.toString() ?? null,
    type: tx.type,
    status: 'status' in receipt ? receipt.status : 1,
    cumulativeGasUsed: hex(receipt.cumulativeBlockGasUsed),
    gasUsed: hex(result.totalGasSpent),
    effectiveGasPrice: hex(baseFee + tip),
    contractAddress: result.createdAddress?.toString() ?? null,
    logs: receipt.logs.map(([address, topics, data]) => ({ address: bytesToHex(address), topics: topics.map(topic => bytesToHex(topic)), data: bytesToHex(data) })),
    logsBloom: bytesToHex(receipt.bitvector)
  }
}

function min (a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

export function hex (value: bigint): PrefixedHexString {
  return `0x${value.toString(16)}`
}
