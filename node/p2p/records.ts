import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import {
  MAX_FILE_NAME_BYTES, MAX_FILE_SIZE, MAX_RECORD_ADDRESSES, MAX_RECORD_BYTES, MAX_RECORD_TRANSPORTS, MAX_TRANSPORT_ENDPOINT_CHARS,
  MAX_TRANSPORT_ENDPOINTS, RECORD_NAMESPACE, RECORD_SIGNING_DOMAIN
} from '../config/constants.js'
import { ProtocolError } from '../util/errors.js'

/**
 * One transport a seeder serves the file over, and where. The list is open: a record may name
 * transports this build does not know (a newer build's), readers skip those and use the rest,
 * and the DHT stores and serves such records as long as the signature covers them.
 */
const TransportEntrySchema = Type.Object({
  name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$' }),
  endpoints: Type.Array(Type.String({ maxLength: MAX_TRANSPORT_ENDPOINT_CHARS }), { maxItems: MAX_TRANSPORT_ENDPOINTS })
}, { additionalProperties: false })

/**
 * What a seeder says about a file it seeds. Every field is covered by the signature of the
 * seeder's peer key, and the signature also covers the DHT key, so nobody can change a price,
 * payee or address, nor move the record under another file or peer.
 */
export const FileRecordSchema = Type.Object({
  version: Type.Literal(2),
  cid: Type.String({ maxLength: 128 }),
  peerId: Type.String({ maxLength: 128 }),
  manifestRoot: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  size: Type.Integer({ minimum: 0, maximum: MAX_FILE_SIZE }),
  name: Type.String({ maxLength: MAX_FILE_NAME_BYTES }),
  chunkSize: Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 }),
  addresses: Type.Array(Type.String({ maxLength: 256 }), { maxItems: MAX_RECORD_ADDRESSES }),
  pricePerMiB: Type.String({ pattern: '^[0-9]{1,78}$' }),
  wallet: Type.String({ pattern: '^(0x[0-9a-fA-F]{40})?$' }),
  /** The wallet's own EIP-712 signature binding it to this peer (node/wallet/peer-binding.ts). */
  walletProof: Type.String({ pattern: '^(0x[0-9a-fA-F]{130})?$' }),
  transports: Type.Array(TransportEntrySchema, { maxItems: MAX_RECORD_TRANSPORTS }),
  sequence: Type.Integer({ minimum: 0 }),
  expiresAt: Type.Integer({ minimum: 0 }),
  withdrawn: Type.Boolean()
}, { additionalProperties: false })

export type FileRecord = Static<typeof FileRecordSchema>
export type TransportEntry = Static<typeof TransportEntrySchema>

/** The endpoints a record gives for `transport`, or undefined if it does not list that transport. */
export function endpointsOf (record: FileRecord, transport: string): string[] | undefined {
  return record.transports.find(entry => entry.name === transport)?.endpoints
}

const encoder = new TextEncoder()
const FORMAT_VERSION = 1

export function recordKey (cid: string, peerId: string): Uint8Array {
  return encoder.encode(`/${RECORD_NAMESPACE}/${cid}/${peerId}`)
}

/** Domain-tagged and length-prefixed, so no field can slide into another. */
function signingPayload (key: Uint8Array, payload: Uint8Array): Uint8Array {
  const parts = [encoder.encode(RECORD_SIGNING_DOMAIN), key, payload]
  const out = Buffer.alloc(parts.reduce((n, part) => n + 4 + part.length, 0))
  let offset = 0
  for (const part of parts) {
    offset = out.writeUInt32BE(part.length, offset)
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** [u8 format][u32 payload length][payload JSON][u16 signature length][signature] */
export async function signRecord (record: FileRecord, key: PrivateKey): Promise<Uint8Array> {
  const payload = encoder.encode(JSON.stringify(record))
  const signature = await key.sign(signingPayload(recordKey(record.cid, record.peerId), payload))
  const out = Buffer.alloc(1 + 4 + payload.length + 2 + signature.length)
  let offset = out.writeUInt8(FORMAT_VERSION, 0)
  offset = out.writeUInt32BE(payload.length, offset)
  out.set(payload, offset)
  offset = out.writeUInt16BE(signature.length, offset + payload.length)
  out.set(signature, offset)
  if (out.length > MAX_RECORD_BYTES) throw new ProtocolError(`file record too large (${out.length} bytes)`)
  return out
}

/** Parses and fully verifies a record found under `key`; throws ProtocolError on anything wrong. */
export async function verifyRecord (key: Uint8Array, value: Uint8Array, now = Date.now()): Promise<FileRecord> {
  if (value.length > MAX_RECORD_BYTES) throw new ProtocolError('file record too large')
  const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (buf.length < 7 || buf.readUInt8(0) !== FORMAT_VERSION) throw new ProtocolError('unknown file record format')
  const payloadLength = buf.readUInt32BE(1)
  if (5 + payloadLength + 2 > buf.length) throw new ProtocolError('truncated file record')
  const payload = buf.subarray(5, 5 + payloadLength)
  const signatureLength = buf.readUInt16BE(5 + payloadLength)
  const signature = buf.subarray(7 + payloadLength)
  if (signature.length !== signatureLength) throw new ProtocolError('file record signature length mismatch')
  let record: unknown
  try {
    record = JSON.parse(payload.toString('utf8'))
  } catch {
    throw new ProtocolError('file record payload is not JSON')
  }
  if (!Value.Check(FileRecordSchema, record)) throw new ProtocolError('file record does not match its schema')
  if (Buffer.compare(Buffer.from(recordKey(record.cid, record.peerId)), Buffer.from(key)) !== 0) {
    throw new ProtocolError('file record is stored under another key')
  }
  let publicKey
  try {
    publicKey = peerIdFromString(record.peerId).publicKey
  } catch {
    throw new ProtocolError('file record names an invalid peer id')
  }
  if (publicKey == null || !(await publicKey.verify(signingPayload(key, payload), signature))) {
    throw new ProtocolError('file record signature is invalid')
  }
  if (record.expiresAt <= now) throw new ProtocolError('file record has expired')
  return record
}

/** DHT validator for the `/chiral/` namespace. */
export async function validateFileRecord (key: Uint8Array, value: Uint8Array): Promise<void> {
  await verifyRecord(key, value)
}

/** DHT selector: the valid record with the highest sequence number wins. */
export function selectFileRecord (_key: Uint8Array, records: Uint8Array[]): number {
  let best = 0
  let bestSequence = -1
  records.forEach((value, index) => {
    const sequence = peekSequence(value)
    if (sequence > bestSequence) {
      best = index
      bestSequence = sequence
    }
  })
  return best
}

function peekSequence (value: Uint8Array): number {
  try {
    const buf = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    const payload = JSON.parse(buf.subarray(5, 5 + buf.readUInt32BE(1)).toString('utf8')) as { sequence?: unknown }
    return typeof payload.sequence === 'number' ? payload.sequence : -1
  } catch {
    return -1
  }
}
