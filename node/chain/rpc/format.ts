import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, type PrefixedHexString } from '@ethereumjs/util'
import type { StoredReceipt } from '../receipts.js'

/** JSON shapes of blocks, transactions, receipts and logs, field for field as geth answers. */

export function toQuantity (value: bigint | number): PrefixedHexString {
  return `0x${value.toString(16)}`
}

export function formatHeader (header: BlockHeader): Record<string, unknown> {
  return {
    number: toQuantity(header.number),
    hash: bytesToHex(header.hash()),
    parentHash: bytesToHex(header.parentHash),
    nonce: bytesToHex(header.nonce),
    mixHash: bytesToHex(header.mixHash),
    sha3Uncles: bytesToHex(header.uncleHash),
    logsBloom: bytesToHex(header.logsBloom),
    transactionsRoot: bytesToHex(header.transactionsTrie),
    stateRoot: bytesToHex(header.stateRoot),
    receiptsRoot: bytesToHex(header.receiptTrie),
    miner: header.coinbase.toString(),
    difficulty: toQuantity(header.difficulty),
    extraData: bytesToHex(header.extraData),
    gasLimit: toQuantity(header.gasLimit),
    gasUsed: toQuantity(header.gasUsed),
    timestamp: toQuantity(header.timestamp),
    ...optionalFields({
      baseFeePerGas: header.baseFeePerGas,
      withdrawalsRoot: header.withdrawalsRoot,
      blobGasUsed: header.blobGasUsed,
      excessBlobGas: header.excessBlobGas,
      parentBeaconBlockRoot: header.parentBeaconBlockRoot
    })
  }
}

export function formatBlock (block: Block, totalDifficulty: bigint, fullTransactions: boolean): Record<string, unknown> {
  return {
    ...formatHeader(block.header),
    totalDifficulty: toQuantity(totalDifficulty),
    size: toQuantity(block.serialize().length),
    transactions: block.transactions.map((tx, index) => fullTransactions ? formatTransaction(tx, { block, index }) : bytesToHex(tx.hash())),
    uncles: [],
    ...(block.withdrawals == null ? {} : { withdrawals: [] })
  }
}

/** A transaction, in a block or (without `location`) still pending. */
export function formatTransaction (tx: TypedTransaction, location?: { block: Block, index: number }): Record<string, unknown> {
  const header = location?.block.header
  const signature = { v: tx.v ?? 0n, r: tx.r ?? 0n, s: tx.s ?? 0n }
  const typed = tx.type !== 0
  // Legacy transactions signed before EIP-155 (v of 27 or 28) carry no chain id.
  const hasChainId = typed || signature.v > 28n
  return {
    blockHash: header == null ? null : bytesToHex(header.hash()),
    blockNumber: header == null ? null : toQuantity(header.number),
    transactionIndex: location == null ? null : toQuantity(location.index),
    hash: bytesToHex(tx.hash()),
    type: toQuantity(tx.type),
    from: tx.getSenderAddress().toString(),
    to: tx.to?.toString() ?? null,
    nonce: toQuantity(tx.nonce),
    gas: toQuantity(tx.gasLimit),
    gasPrice: toQuantity(gasPriceOf(tx, header?.baseFeePerGas)),
    value: toQuantity(tx.value),
    input: bytesToHex(tx.data),
    ...('maxFeePerGas' in tx ? { maxFeePerGas: toQuantity(tx.maxFeePerGas), maxPriorityFeePerGas: toQuantity(tx.maxPriorityFeePerGas) } : {}),
    ...('maxFeePerBlobGas' in tx ? { maxFeePerBlobGas: toQuantity(tx.maxFeePerBlobGas), blobVersionedHashes: tx.blobVersionedHashes } : {}),
    ...('accessList' in tx ? { accessList: tx.toJSON().accessList ?? [] } : {}),
    ...(hasChainId ? { chainId: toQuantity(tx.common.chainId()) } : {}),
    v: toQuantity(signature.v),
    r: toQuantity(signature.r),
    s: toQuantity(signature.s),
    ...(typed ? { yParity: toQuantity(signature.v) } : {})
  }
}

/** What the transaction pays per gas: in a block its effective price, pending its fee cap. */
function gasPriceOf (tx: TypedTransaction, baseFee: bigint | undefined): bigint {
  if (!('maxFeePerGas' in tx)) return (tx as { gasPrice: bigint }).gasPrice
  if (baseFee == null) return tx.maxFeePerGas
  const tip = tx.maxFeePerGas - baseFee < tx.maxPriorityFeePerGas ? tx.maxFeePerGas - baseFee : tx.maxPriorityFeePerGas
  return baseFee + tip
}

export interface LogPosition {
  block: Block
  transactionHash: PrefixedHexString
  transactionIndex: number
  /** Index of the log within the whole block. */
  logIndex: number
  removed: boolean
}

export type StoredLog = StoredReceipt['logs'][number]

export function formatLog (log: StoredLog, position: LogPosition): Record<string, unknown> {
  return {
    address: log.address,
    topics: log.topics,
    data: log.data,
    blockNumber: toQuantity(position.block.header.number),
    blockHash: bytesToHex(position.block.hash()),
    transactionHash: position.transactionHash,
    transactionIndex: toQuantity(position.transactionIndex),
    logIndex: toQuantity(position.logIndex),
    removed: position.removed
  }
}

/** Every log of a block with its position, in block order; `removed` marks a reorged-out block. */
export function blockLogs (block: Block, receipts: StoredReceipt[], removed = false): Array<{ log: StoredLog, position: LogPosition }> {
  const entries: Array<{ log: StoredLog, position: LogPosition }> = []
  for (const [transactionIndex, receipt] of receipts.entries()) {
    for (const log of receipt.logs) {
      entries.push({ log, position: { block, transactionHash: receipt.transactionHash, transactionIndex, logIndex: entries.length, removed } })
    }
  }
  return entries
}

export function formatReceipt (block: Block, receipts: StoredReceipt[], index: number): Record<string, unknown> | null {
  const receipt = receipts[index]
  if (receipt == null) return null
  const logs = blockLogs(block, receipts).filter(entry => entry.position.transactionIndex === index)
  return {
    transactionHash: receipt.transactionHash,
    transactionIndex: toQuantity(index),
    blockHash: bytesToHex(block.hash()),
    blockNumber: toQuantity(block.header.number),
    from: receipt.from,
    to: receipt.to,
    cumulativeGasUsed: receipt.cumulativeGasUsed,
    gasUsed: receipt.gasUsed,
    effectiveGasPrice: receipt.effectiveGasPrice,
    contractAddress: receipt.contractAddress,
    logs: logs.map(entry => formatLog(entry.log, entry.position)),
    logsBloom: receipt.logsBloom,
    type: toQuantity(receipt.type),
    status: toQuantity(receipt.status)
  }
}

function optionalFields (fields: Record<string, bigint | Uint8Array | undefined>): Record<string, PrefixedHexString> {
  const present: Record<string, PrefixedHexString> = {}
  for (const [key, value] of Object.entries(fields)) {
    if (value != null) present[key] = typeof value === 'bigint' ? toQuantity(value) : bytesToHex(value)
  }
  return present
}
