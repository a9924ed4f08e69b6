import { createHash } from 'node:crypto'
import { MANIFEST_DOMAIN, MAX_FILE_SIZE } from '../config/constants.js'
import { ProtocolError } from '../util/errors.js'

export const HASH_LENGTH = 32

/** Binds a file's size and chunking to the SHA-256 of every chunk. */
export interface Manifest {
  size: number
  chunkSize: number
  /** count * 32 bytes: the SHA-256 of chunk i at offset i * 32. */
  chunkHashes: Uint8Array
}

export function chunkCount (size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

export function chunkLength (manifest: Pick<Manifest, 'size' | 'chunkSize'>, index: number): number {
  return Math.min(manifest.chunkSize, manifest.size - index * manifest.chunkSize)
}

export function chunkHash (manifest: Manifest, index: number): Uint8Array {
  return manifest.chunkHashes.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH)
}

const domainBytes = new TextEncoder().encode(MANIFEST_DOMAIN)
const HEADER_LENGTH = 1 + domainBytes.length + 8 + 4 + 4

export function maxManifestBytes (size: number, chunkSize: number): number {
  return HEADER_LENGTH + chunkCount(size, chunkSize) * HASH_LENGTH
}

/** Domain-tagged, length-prefixed: [len][domain][u64 size][u32 chunkSize][u32 count][hashes]. */
export function encodeManifest (manifest: Manifest): Uint8Array {
  const count = chunkCount(manifest.size, manifest.chunkSize)
  if (manifest.chunkHashes.length !== count * HASH_LENGTH) throw new Error('manifest hash count does not match its size')
  const out = Buffer.alloc(HEADER_LENGTH + manifest.chunkHashes.length)
  let offset = out.writeUInt8(domainBytes.length, 0)
  out.set(domainBytes, offset)
  offset += domainBytes.length
  offset = out.writeBigUInt64BE(BigInt(manifest.size), offset)
  offset = out.writeUInt32BE(manifest.chunkSize, offset)
  offset = out.writeUInt32BE(count, offset)
  out.set(manifest.chunkHashes, offset)
  return out
}

export function decodeManifest (bytes: Uint8Array): Manifest {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (buf.length < HEADER_LENGTH || buf.readUInt8(0) !== domainBytes.length ||
      !buf.subarray(1, 1 + domainBytes.length).equals(domainBytes)) {
    throw new ProtocolError('malformed manifest header')
  }
  let offset = 1 + domainBytes.length
  const size = buf.readBigUInt64BE(offset)
  offset += 8
  const chunkSize = buf.readUInt32BE(offset)
  offset += 4
  const count = buf.readUInt32BE(offset)
  offset += 4
  if (size > BigInt(MAX_FILE_SIZE) || chunkSize === 0 || count !== chunkCount(Number(size), chunkSize) ||
      buf.length !== offset + count * HASH_LENGTH) {
    throw new ProtocolError('manifest size, chunk size and hash count disagree')
  }
  return { size: Number(size), chunkSize, chunkHashes: new Uint8Array(buf.subarray(offset)) }
}

/** The manifest root is the SHA-256 of the encoded manifest, hex-encoded. */
export function manifestRoot (manifest: Manifest): string {
  return createHash('sha256').update(encodeManifest(manifest)).digest('hex')
}
