import type { ICryptoInterface } from '@chainsafe/libp2p-noise'
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto'
import type { Uint8ArrayList } from 'uint8arraylist'
import { native } from '../native/index.js'

const TAG_BYTES = 16

/** The first `length` bytes (all by default) as views of the memory they lie in, never a copy. */
function piecesOf (bytes: Uint8Array | Uint8ArrayList, length = bytes.byteLength): Uint8Array[] {
  return bytes instanceof Uint8Array ? [bytes.subarray(0, length)] : [...bytes.sublist(0, length)]
}

/**
 * Noise's default crypto, with ChaCha20-Poly1305 from the addon so no message costs a buffer of
 * its own: a received message is decrypted where it lies (noise passes the bytes to decrypt
 * into), and an outgoing one is encrypted from its pieces straight into the buffer sent, where
 * Node's ciphers would allocate their output and then concatenate it with the tag.
 */
export const noiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt (plaintext, nonce, ad, k) {
    const out = Buffer.allocUnsafe(plaintext.byteLength + TAG_BYTES)
    native.aeadSeal(k, nonce, ad, piecesOf(plaintext), out)
    return out
  },
  chaCha20Poly1305Decrypt (ciphertext, nonce, ad, k, dst) {
    const length = ciphertext.byteLength - TAG_BYTES
    if (length < 0) throw new Error('noise message shorter than its authentication tag')
    const out = dst?.byteLength === length ? dst : Buffer.allocUnsafe(length)
    if (!native.aeadOpen(k, nonce, ad, piecesOf(ciphertext, length), ciphertext.subarray(length), out)) {
      throw new Error('noise message failed authentication')
    }
    return out
  }
}
