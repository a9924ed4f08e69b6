import { createHash } from 'node:crypto'
import { MANIFEST_DOMAIN, MAX_FILE_SIZE } from '../config/constants.js'
import { ProtocolError } from '../util/errors.js'
import { SHA256_BLOCK_BYTES, sha256Step } from './sha256-chain.js'

export const HASH_LENGTH = 32

/**
 * Binds a file's size and chunking to one SHA-256 state per chunk: the state of the whole-file
 * SHA-256 after that chunk, and for the last chunk the file's SHA-256 itself (the content id's
 * digest). A chunk is verified by running SHA-256 over it from the previous chunk's state, so
 * chunks check independently and in any order, and once every chunk has checked the whole file
 * has been hashed against its content id: one hash pass instead of a per-chunk digest plus a
 * second pass over the finished file.
 */
export interface Manifest {
  size: number
  chunkSize: number
  /** count * 32 bytes: the state after chunk i at offset i * 32. */
  chunkStates: Uint8Array
}

export function chunkCount (size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize)
}

export function chunkLength (manifest: Pick<Manifest, 'size' | 'chunkSize'>, index: number): number {
  return Math.min(manifest.chunkSize, manifest.size - index * manifest.chunkSize)
}

export function chunkState (manifest: Manifest, index: number): Uint8Array {
  return manifest.chunkStates.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH)
}

/** Whether `bytes` are chunk `index`: SHA-256 from the previous chunk's state lands on this chunk's. */
export async function chunkMatches (manifest: Manifest, index: number, bytes: Uint8Array): Promise<boolean> {
  if (bytes.length !== chunkLength(manifest, index)) return false
  const previous = index === 0 ? null : chunkState(manifest, index - 1)
  const last = index === chunkCount(manifest.size, manifest.chunkSize) - 1
  const state = await sha256Step(previous, bytes, index * manifest.chunkSize, last)
  return state.equals(chunkState(manifest, index))
}

/** The SHA-256 of no bytes: an empty file's content id digest. */
export const EMPTY_FILE_DIGEST = createHash('sha256').digest()

/** Whether the manifest's chain ends at `digest`, so chunks that all check make exactly that file. */
export function manifestEndsAt (manifest: Manifest, digest: Uint8Array): boolean {
  const count = chunkCount(manifest.size, manifest.chunkSize)
  const final = count === 0 ? EMPTY_FILE_DIGEST : chunkState(manifest, count - 1)
  return Buffer.from(final).equals(digest)
}

const domainBytes = new TextEncoder().encode(MANIFEST_DOMAIN)
const HEADER_LENGTH = 1 + domainBytes.length + 8 + 4 + 4

export function maxManifestBytes (size: number, chunkSize: number): number {
  return HEADER_LENGTH + chunkCount(size, chunkSize) * HASH_LENGTH
}

/** Domain-tagged, length-prefixed: [len][domain][u64 size][u32 chunkSize][u32 count][states]. */
export function encodeManifest (manifest: Manifest): Uint8Array {
  const count = chunkCount(manifest.size, manifest.chunkSize)
  if (manifest.chunkStates.length !== count * HASH_LENGTH) throw new Error('manifest state count does not match its size')
  const out = Buffer.alloc(HEADER_LENGTH + manifest.chunkStates.length)
  let offset = out.writeUInt8(domainBytes.length, 0)
  out.set(domainBytes, offset)
  offset += domainBytes.length
  offset = out.writeBigUInt64BE(BigInt(manifest.size), offset)
  offset = out.writeUInt32BE(manifest.chunkSize, offset)
  offset = out.writeUInt32BE(count, offset)
  out.set(manifest.chunkStates, offset)
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
  if (chunkSize === 0 || chunkSize % SHA256_BLOCK_BYTES !== 0) throw new ProtocolError(`manifest chunk size ${chunkSize} is not a positive multiple of ${SHA256_BLOCK_BYTES}`)
  if (size > BigInt(MAX_FILE_SIZE) || count !== chunkCount(Number(size), chunkSize) || buf.length !== offset + count * HASH_LENGTH) {
    throw new ProtocolError('manifest size, chunk size and state count disagree')
  }
  return { size: Number(size), chunkSize, chunkStates: new Uint8Array(buf.subarray(offset)) }
}

/** The manifest root is the SHA-256 of the encoded manifest, hex-encoded. */
export function manifestRoot (manifest: Manifest): string {
  return createHash('sha256').update(encodeManifest(manifest)).digest('hex')
}
