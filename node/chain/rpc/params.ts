import { createAddressFromString, equalsBytes, hexToBytes, type Address, type PrefixedHexString } from '@ethereumjs/util'
import { InvalidParamsError } from './errors.js'

/**
 * Parsers for method parameters. Each one takes the raw JSON value and either returns it in
 * the type the method works with or throws -32602 naming the argument, as strictly as geth
 * (no leading zeros in quantities, exact lengths for addresses and hashes).
 */
export type Parser<T> = (value: unknown, name: string) => T

const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/
const DATA = /^0x([0-9a-fA-F]{2})*$/
const MAX_UINT256 = (1n << 256n) - 1n
const MAX_UINT64 = (1n << 64n) - 1n

function fail (name: string, message: string): never {
  throw new InvalidParamsError(`invalid argument ${name}: ${message}`)
}

/** Parsers of required arguments call this first, so a missing one is named as missing. */
function required (value: unknown, name: string): void {
  if (value === undefined) throw new InvalidParamsError(`missing value for required argument ${name}`)
}

function hexString (value: unknown, name: string): string {
  required(value, name)
  if (typeof value !== 'string') fail(name, 'expected a 0x-prefixed hex string')
  if (!value.startsWith('0x') && !value.startsWith('0X')) fail(name, 'hex string without 0x prefix')
  return value
}

export const quantity: Parser<bigint> = (value, name) => {
  const text = hexString(value, name)
  if (text === '0x') fail(name, 'empty hex string')
  if (!QUANTITY.test(text)) fail(name, /^0x0[0-9a-fA-F]/.test(text) ? 'hex number with leading zero digits' : 'invalid hex number')
  const result = BigInt(text)
  if (result > MAX_UINT256) fail(name, 'hex number > 256 bits')
  return result
}

export const uint64: Parser<bigint> = (value, name) => {
  const result = quantity(value, name)
  if (result > MAX_UINT64) fail(name, 'hex number > 64 bits')
  return result
}

/** A storage key: up to 32 bytes of hex, leading zeros allowed (geth takes both forms). */
export const storageSlot: Parser<bigint> = (value, name) => {
  const text = hexString(value, name)
  if (!/^0x[0-9a-fA-F]{1,64}$/.test(text)) fail(name, 'storage slot must be at most 32 bytes of hex')
  return BigInt(text)
}

export const data: Parser<Uint8Array> = (value, name) => {
  const text = hexString(value, name)
  if (!DATA.test(text)) fail(name, text.length % 2 === 1 ? 'hex string of odd length' : 'invalid hex string')
  return hexToBytes(text as PrefixedHexString)
}

function fixedData (bytes: number, what: string): Parser<PrefixedHexString> {
  return (value, name) => {
    if (data(value, name).length !== bytes) fail(name, `${what} must be ${bytes} bytes`)
    return (value as string).toLowerCase() as PrefixedHexString
  }
}

export const hash32 = fixedData(32, 'hash')
export const nonce8 = fixedData(8, 'nonce')

export const address: Parser<Address> = (value, name) => {
  if (data(value, name).length !== 20) fail(name, 'address must be 20 bytes')
  return createAddressFromString(value as string)
}

export const bool: Parser<boolean> = (value, name) => {
  required(value, name)
  if (typeof value !== 'boolean') fail(name, 'expected true or false')
  return value
}

export function optional<T, D extends T | undefined> (parser: Parser<T>, fallback: D): Parser<T | D> {
  return (value, name) => value === undefined || value === null ? fallback : parser(value, name)
}

export function object (value: unknown, name: string): Record<string, unknown> {
  required(value, name)
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(name, 'expected an object')
  return value as Record<string, unknown>
}

export type BlockTag = 'latest' | 'earliest' | 'pending' | 'safe' | 'finalized'
const BLOCK_TAGS: readonly string[] = ['latest', 'earliest', 'pending', 'safe', 'finalized']

export type BlockId =
  | { tag: BlockTag }
  | { number: bigint }
  | { hash: PrefixedHexString, requireCanonical: boolean }

/** A block number or tag; for state reads also a hash or EIP-1898 object. */
export const blockNumber: Parser<BlockId> = (value, name) => {
  required(value, name)
  if (typeof value === 'string' && BLOCK_TAGS.includes(value)) return { tag: value as BlockTag }
  if (typeof value !== 'string' || !value.startsWith('0x')) fail(name, `expected a hex block number or one of ${BLOCK_TAGS.join(', ')}`)
  return { number: uint64(value, name) }
}

export const blockId: Parser<BlockId> = (value, name) => {
  if (typeof value === 'string' && value.length === 66) return { hash: hash32(value, name), requireCanonical: false }
  if (typeof value !== 'object' || value === null) return blockNumber(value, name)
  const fields = object(value, name)
  if ('blockHash' in fields && 'blockNumber' in fields) fail(name, 'cannot specify both blockHash and blockNumber, choose one or the other')
  if ('blockNumber' in fields) return blockNumber(fields.blockNumber, `${name}.blockNumber`)
  if (!('blockHash' in fields)) fail(name, 'expected blockHash or blockNumber')
  return { hash: hash32(fields.blockHash, `${name}.blockHash`), requireCanonical: optional(bool, false)(fields.requireCanonical, `${name}.requireCanonical`) }
}

export const LATEST: BlockId = { tag: 'latest' }

/** Fields of eth_call / eth_estimateGas; unknown fields are ignored as geth does. */
export interface CallRequest {
  from?: Address
  to?: Address
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value: bigint
  data: Uint8Array
  accessList: Array<{ address: PrefixedHexString, storageKeys: PrefixedHexString[] }>
}

export const callRequest: Parser<CallRequest> = (value, name) => {
  const fields = object(value, name)
  const field = <T>(key: string, parser: Parser<T>): T | undefined => optional(parser, undefined)(fields[key], `${name}.${key}`)
  const input = field('input', data)
  const legacyData = field('data', data)
  if (input != null && legacyData != null && !equalsBytes(input, legacyData)) fail(name, 'both "data" and "input" are set and not equal')
  const request: CallRequest = {
    from: field('from', address),
    to: field('to', address),
    gas: field('gas', uint64),
    gasPrice: field('gasPrice', quantity),
    maxFeePerGas: field('maxFeePerGas', quantity),
    maxPriorityFeePerGas: field('maxPriorityFeePerGas', quantity),
    value: field('value', quantity) ?? 0n,
    data: input ?? legacyData ?? new Uint8Array(),
    accessList: field('accessList', accessList) ?? []
  }
  if (request.gasPrice != null && (request.maxFeePerGas != null || request.maxPriorityFeePerGas != null)) {
    fail(name, 'both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (request.maxFeePerGas != null && request.maxPriorityFeePerGas != null && request.maxPriorityFeePerGas > request.maxFeePerGas) {
    fail(name, 'maxPriorityFeePerGas is greater than maxFeePerGas')
  }
  return request
}

const accessList: Parser<CallRequest['accessList']> = (value, name) => {
  if (!Array.isArray(value)) fail(name, 'expected an array')
  return value.map((entry, i) => {
    const fields = object(entry, `${name}[${i}]`)
    const keys = fields.storageKeys ?? []
    if (!Array.isArray(keys)) fail(`${name}[${i}].storageKeys`, 'expected an array')
    return {
      address: address(fields.address, `${name}[${i}].address`).toString(),
      storageKeys: keys.map((key, k) => hash32(key, `${name}[${i}].storageKeys[${k}]`))
    }
  })
}

/** One entry of a topic filter: null matches anything, an array matches any of its hashes. */
export type TopicFilter = PrefixedHexString[] | null

export interface LogFilter {
  fromBlock: BlockId
  toBlock: BlockId
  blockHash?: PrefixedHexString
  /** Undefined matches every address. */
  addresses?: PrefixedHexString[]
  topics: TopicFilter[]
}

const MAX_TOPICS = 4

export const logFilter: Parser<LogFilter> = (value, name) => {
  const fields = object(value, name)
  const blockHash = optional(hash32, undefined)(fields.blockHash, `${name}.blockHash`)
  if (blockHash != null && (fields.fromBlock != null || fields.toBlock != null)) {
    fail(name, 'cannot specify both blockHash and fromBlock/toBlock, choose one or the other')
  }
  return {
    fromBlock: optional(blockNumber, LATEST)(fields.fromBlock, `${name}.fromBlock`),
    toBlock: optional(blockNumber, LATEST)(fields.toBlock, `${name}.toBlock`),
    blockHash,
    ...addressAndTopics(fields, name)
  }
}

/** The address and topics of a log filter, shared with the 'logs' subscription. */
export function addressAndTopics (fields: Record<string, unknown>, name: string): Pick<LogFilter, 'addresses' | 'topics'> {
  const addressValue = fields.address
  const addresses = addressValue == null
    ? undefined
    : (Array.isArray(addressValue) ? addressValue : [addressValue]).map((entry, i) => address(entry, `${name}.address[${i}]`).toString())
  const topicsValue = fields.topics ?? []
  if (!Array.isArray(topicsValue)) fail(`${name}.topics`, 'expected an array')
  if (topicsValue.length > MAX_TOPICS) fail(`${name}.topics`, `exceed max topics (${MAX_TOPICS})`)
  const topics = topicsValue.map((entry: unknown, i): TopicFilter => {
    const entryName = `${name}.topics[${i}]`
    if (entry == null) return null
    if (!Array.isArray(entry)) return [hash32(entry, entryName)]
    // An empty alternative list constrains nothing, as in geth.
    return entry.length === 0 ? null : entry.map((topic, k) => hash32(topic, `${entryName}[${k}]`))
  })
  return { addresses, topics }
}

export const percentiles: Parser<number[]> = (value, name) => {
  required(value, name)
  if (!Array.isArray(value)) fail(name, 'expected an array of percentiles')
  let previous = -1
  return value.map((entry, i) => {
    if (typeof entry !== 'number' || !Number.isFinite(entry) || entry < 0 || entry > 100) fail(`${name}[${i}]`, 'percentile must be a number between 0 and 100')
    if (entry < previous) fail(name, 'percentiles must be in ascending order')
    previous = entry
    return entry
  })
}

export const string: Parser<string> = (value, name) => {
  required(value, name)
  if (typeof value !== 'string') fail(name, 'expected a string')
  return value
}

export const subscriptionId: Parser<string> = (value, name) => {
  if (typeof value !== 'string' || !/^0x[0-9a-f]{1,64}$/.test(value)) fail(name, 'expected a subscription id')
  return value
}
