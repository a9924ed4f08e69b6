import { createCipheriv, randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { Uint8ArrayList } from 'uint8arraylist'
import { native } from '../../node/native/index.js'
import { noiseCrypto } from '../../node/p2p/noise-crypto.js'

/** RFC 8439 ChaCha20-Poly1305 as node:crypto computes it: ciphertext, then the 16-byte tag. */
function referenceSeal (key: Uint8Array, nonce: Uint8Array, ad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 })
  cipher.setAAD(ad, { plaintextLength: plaintext.length })
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
}

/** `bytes` as a list cut at `cuts`, the way messages arrive split across socket reads. */
function splitAt (bytes: Uint8Array, cuts: number[]): Uint8ArrayList {
  const list = new Uint8ArrayList()
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    list.append(bytes.subarray(from, cut))
    from = cut
  }
  return list
}

describe('noise ChaCha20-Poly1305 (no processes)', function () {
  const key = randomBytes(32)
  const nonce = randomBytes(12)
  const ad = randomBytes(32)

  it('seals exactly as node:crypto does, from one buffer or from pieces', function () {
    for (const size of [0, 1, 63, 64, 65, 1000, 65519]) {
      const plaintext = randomBytes(size)
      const expected = referenceSeal(key, nonce, ad, plaintext)
      expect(Buffer.from(noiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, key).subarray()).equals(expected), `size ${size}`).to.equal(true)
      const cuts = size > 2 ? [1, Math.floor(size / 2)] : []
      expect(Buffer.from(noiseCrypto.chaCha20Poly1305Encrypt(splitAt(plaintext, cuts), nonce, ad, key).subarray()).equals(expected), `size ${size} in pieces`).to.equal(true)
    }
  })

  it('opens node:crypto ciphertext split anywhere, tag included, into dst, in place, or a new buffer', function () {
    const plaintext = randomBytes(65519)
    const sealed = referenceSeal(key, nonce, ad, plaintext)
    const body = sealed.length - 16
    for (const cuts of [[], [1], [30000], [body - 1], [body + 5], [100, 40000, body + 15]]) {
      const list = splitAt(Buffer.from(sealed), cuts)
      const dst = Buffer.alloc(body)
      const opened = noiseCrypto.chaCha20Poly1305Decrypt(list, nonce, ad, key, dst)
      expect(opened, `cuts ${cuts.join(',')}`).to.equal(dst)
      expect(dst.equals(plaintext), `cuts ${cuts.join(',')}`).to.equal(true)
    }
    const inPlace = Buffer.from(sealed)
    const view = inPlace.subarray(0, body)
    expect(noiseCrypto.chaCha20Poly1305Decrypt(inPlace, nonce, ad, key, view)).to.equal(view)
    expect(view.equals(plaintext)).to.equal(true)
    expect(Buffer.from(noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, key).subarray()).equals(plaintext)).to.equal(true)
  })

  it('refuses a changed byte anywhere, another nonce or other associated data', function () {
    const sealed = referenceSeal(key, nonce, ad, randomBytes(4096))
    for (const index of [0, 2000, sealed.length - 17, sealed.length - 1]) {
      const tampered = Buffer.from(sealed)
      tampered[index] = (tampered[index] as number) ^ 1
      expect(() => noiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce, ad, key), `byte ${index}`).to.throw(/failed authentication/)
    }
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, randomBytes(12), ad, key)).to.throw(/failed authentication/)
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, randomBytes(32), key)).to.throw(/failed authentication/)
    expect(() => noiseCrypto.chaCha20Poly1305Decrypt(randomBytes(15), nonce, ad, key)).to.throw(/shorter than its authentication tag/)
  })

  it('checks the addon arguments', function () {
    const out = Buffer.alloc(16)
    expect(() => (native.aeadSeal as (...args: unknown[]) => void)(key, nonce, ad, [])).to.throw(/expected \(key, nonce, ad, pieces, out\)/)
    expect(() => native.aeadSeal(randomBytes(31), nonce, ad, [], out)).to.throw(/key must be 32 bytes/)
    expect(() => native.aeadSeal(key, randomBytes(8), ad, [], out)).to.throw(/nonce must be 12 bytes/)
    expect(() => native.aeadSeal(key, nonce, ad, [randomBytes(1)], out)).to.throw(/16 bytes shorter/)
    expect(() => native.aeadOpen(key, nonce, ad, [randomBytes(4)], randomBytes(15), Buffer.alloc(4))).to.throw(/tag must be 16 bytes/)
    expect(() => native.aeadOpen(key, nonce, ad, [randomBytes(5)], randomBytes(16), Buffer.alloc(4))).to.throw(/exactly as long as out/)
    expect(() => native.aeadOpen(key, nonce, ad, [randomBytes(3)], randomBytes(16), Buffer.alloc(4))).to.throw(/exactly as long as out/)
  })
})
