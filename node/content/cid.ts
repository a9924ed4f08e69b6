import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidContentIdError } from '../util/errors.js'

export interface ContentId {
  cid: CID
  /** The SHA-256 of the whole file: equal to what `sha256sum` prints. */
  digest: Uint8Array
  text: string
}

/** A content id is a CIDv1 with the raw codec over the sha2-256 of the whole file. */
export function contentIdFromDigest (digest: Uint8Array): ContentId {
  const cid = CID.createV1(raw.code, createDigest(sha256.code, digest))
  return { cid, digest, text: cid.toString() }
}

export function parseContentId (input: string): ContentId {
  let cid: CID
  try {
    cid = CID.parse(input.trim())
  } catch {
    throw new InvalidContentIdError(input)
  }
  if (cid.version !== 1 || cid.code !== raw.code || cid.multihash.code !== sha256.code || cid.multihash.digest.length !== 32) {
    throw new InvalidContentIdError(input)
  }
  return { cid, digest: cid.multihash.digest, text: cid.toString() }
}
