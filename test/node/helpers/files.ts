import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'

export interface TestFile {
  path: string
  size: number
  /** Hex SHA-256 of the whole file. */
  sha256: string
}

/** Writes `size` random bytes (so no two test files share chunks or content ids). */
export async function randomFile (dir: string, name: string, size: number): Promise<TestFile> {
  const path = join(dir, name)
  const handle = await open(path, 'w')
  const hash = createHash('sha256')
  try {
    let written = 0
    while (written < size) {
      const piece = randomBytes(Math.min(4 * 1024 * 1024, size - written))
      hash.update(piece)
      await handle.write(piece, 0, piece.length, written)
      written += piece.length
    }
  } finally {
    await handle.close()
  }
  return { path, size, sha256: hash.digest('hex') }
}

export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer)
  return hash.digest('hex')
}

/** The SHA-256 a content id names (CIDv1, raw codec, sha2-256), hex-encoded. */
export function cidDigestHex (cid: string): string {
  const parsed = CID.parse(cid)
  if (parsed.version !== 1 || parsed.code !== 0x55 || parsed.multihash.code !== 0x12) {
    throw new Error(`${cid} is not a CIDv1 raw sha2-256 content id`)
  }
  return Buffer.from(parsed.multihash.digest).toString('hex')
}

/** A syntactically valid content id for content nobody has. */
export function unknownCid (): string {
  const digest = randomBytes(32)
  // multihash: 0x12 (sha2-256), 0x20 (32 bytes), digest; CIDv1 raw
  return CID.decode(Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest])).toString()
}
