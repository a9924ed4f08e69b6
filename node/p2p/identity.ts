import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { PEER_KEY_FILENAME } from '../config/constants.js'

/** The node's Ed25519 identity, created once and kept in the data directory. */
export async function loadOrCreatePeerKey (home: string): Promise<PrivateKey> {
  const path = join(home, PEER_KEY_FILENAME)
  if (existsSync(path)) return privateKeyFromProtobuf(await readFile(path))
  const key = await generateKeyPair('Ed25519')
  await writeFile(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  return key
}
