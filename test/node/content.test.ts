import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'chai'
import { CID } from 'multiformats/cid'
import { contentIdFromDigest, parseContentId } from '../../node/content/cid.js'
import { hashFile } from '../../node/content/hash-file.js'
import { chunkCount, chunkMatches, decodeManifest, encodeManifest, manifestEndsAt, manifestRoot, type Manifest } from '../../node/content/manifest.js'
import { sha256Step } from '../../node/content/sha256-chain.js'
import { endpointsOf, recordKey, signRecord, verifyRecord, type FileRecord } from '../../node/p2p/records.js'
import { ProtocolError } from '../../node/util/errors.js'
import { MiB, TestNetwork, randomFile, run } from './helpers/index.js'

const CHUNK = MiB

async function sha256sum (path: string): Promise<string> {
  const result = await run('sha256sum', [path])
  expect(result.code, result.stderr).to.equal(0)
  return result.stdout.split(/\s+/)[0] as string
}

async function expectRejects (promise: Promise<unknown>, pattern: RegExp): Promise<Error> {
  try {
    await promise
  } catch (err) {
    expect(err).to.be.instanceOf(Error)
    expect((err as Error).message).to.match(pattern)
    return err as Error
  }
  expect.fail(`expected a rejection matching ${pattern}`)
}

describe('content ids (no processes)', function () {
  const net = new TestNetwork()
  let dir: string
  before(async function () { dir = await net.tempDir('cid') })
  after(async function () { await net.cleanup() })

  for (const [label, size] of [['empty', 0], ['one byte', 1], ['one chunk plus one byte', CHUNK + 1], ['17 MiB and a bit', 17 * MiB + 12345]] as const) {
    it(`the content id of a ${label} file names the digest sha256sum prints`, async function () {
      const file = await randomFile(dir, `f-${size}`, size)
      const expected = await sha256sum(file.path)
      const digests = await hashFile(file.path, size, CHUNK)
      expect(Buffer.from(digests.digest).toString('hex')).to.equal(expected)
      const id = contentIdFromDigest(digests.digest)
      const parsed = CID.parse(id.text)
      expect(parsed.version).to.equal(1)
      expect(parsed.code).to.equal(0x55) // raw
      expect(parsed.multihash.code).to.equal(0x12) // sha2-256
      expect(Buffer.from(parsed.multihash.digest).toString('hex')).to.equal(expected)
      expect(id.text).to.match(/^bafkrei[a-z2-7]{52}$/)

      // The state after chunk i, finished with no more bytes, is the SHA-256 of chunks 0..i as
      // node:crypto computes it; the last state is the file's digest.
      const bytes = await readFile(file.path)
      const count = chunkCount(size, CHUNK)
      expect(digests.chunkStates.length).to.equal(count * 32)
      for (let index = 0; index < count; index++) {
        const end = Math.min(size, (index + 1) * CHUNK)
        const state = digests.chunkStates.subarray(index * 32, index * 32 + 32)
        const prefixDigest = index === count - 1 ? Buffer.from(state) : await sha256Step(state, new Uint8Array(0), end, true)
        expect(prefixDigest.toString('hex'), `chunk ${index}`).to.equal(createHash('sha256').update(bytes.subarray(0, end)).digest('hex'))
      }
      const manifest: Manifest = { size, chunkSize: CHUNK, chunkStates: digests.chunkStates }
      expect(manifestEndsAt(manifest, digests.digest)).to.equal(true)
      expect(manifestEndsAt(manifest, createHash('sha256').update('another file').digest()), 'a manifest for another content id').to.equal(false)
      for (let index = 0; index < count; index++) {
        const chunk = Uint8Array.from(bytes.subarray(index * CHUNK, Math.min(size, (index + 1) * CHUNK)))
        expect(await chunkMatches(manifest, index, chunk), `chunk ${index} checks`).to.equal(true)
        chunk[chunk.length - 1] = (chunk[chunk.length - 1] as number) ^ 1
        expect(await chunkMatches(manifest, index, chunk), `chunk ${index} with one bit flipped`).to.equal(false)
        expect(await chunkMatches(manifest, index, chunk.subarray(0, chunk.length - 1)), `chunk ${index} one byte short`).to.equal(false)
      }
      if (count > 1) {
        const first = bytes.subarray(0, CHUNK)
        expect(await chunkMatches(manifest, 1, first), 'chunk 0 offered as chunk 1').to.equal(false)
      }
    })
  }

  it('steps refuse offsets and lengths that are not whole SHA-256 blocks', async function () {
    const state = await sha256Step(null, new Uint8Array(64), 0, false)
    expect(() => sha256Step(null, new Uint8Array(65), 0, false)).to.throw(/whole 64-byte blocks/)
    expect(() => sha256Step(state, new Uint8Array(64), 96, false)).to.throw(/multiple of 64/)
    expect(() => sha256Step(state, new Uint8Array(64), 0, false)).to.throw(/null exactly at offset 0/)
    expect(() => sha256Step(new Uint8Array(31), new Uint8Array(64), 64, false)).to.throw(/32 bytes/)
    expect((await sha256Step(state, new Uint8Array(64), 64, true)).toString('hex')).to.equal(createHash('sha256').update(new Uint8Array(128)).digest('hex'))
  })

  it('parses its own content ids and rejects anything else', function () {
    const id = contentIdFromDigest(createHash('sha256').update('hello').digest())
    expect(parseContentId(id.text).text).to.equal(id.text)
    expect(parseContentId(`  ${id.text}\n`).text).to.equal(id.text)
    const rejected = [
      '', 'not-a-cid', id.text.slice(0, -1), `${id.text}aa`, `${id.text.slice(0, 20)}!${id.text.slice(21)}`,
      'QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG', // CIDv0
      CID.createV1(0x70, CID.parse(id.text).multihash).toString() // dag-pb instead of raw
    ]
    for (const input of rejected) {
      expect(() => parseContentId(input), JSON.stringify(input)).to.throw(/not a valid content id/)
    }
  })
})

describe('manifests (no processes)', function () {
  const manifestOf = (size: number): Manifest => {
    const count = chunkCount(size, CHUNK)
    const chunkStates = new Uint8Array(count * 32)
    for (let i = 0; i < chunkStates.length; i++) chunkStates[i] = (i * 7 + 3) & 0xff
    return { size, chunkSize: CHUNK, chunkStates }
  }

  it('round-trips through encode and decode', function () {
    for (const size of [0, 1, CHUNK, CHUNK + 1, 5 * CHUNK - 7]) {
      const manifest = manifestOf(size)
      const decoded = decodeManifest(encodeManifest(manifest))
      expect(decoded.size).to.equal(size)
      expect(decoded.chunkSize).to.equal(CHUNK)
      expect(Buffer.from(decoded.chunkStates).equals(Buffer.from(manifest.chunkStates))).to.equal(true)
      expect(manifestRoot(decoded)).to.equal(manifestRoot(manifest))
    }
  })

  it('rejects a truncated, extended or inconsistent manifest', function () {
    const encoded = Buffer.from(encodeManifest(manifestOf(3 * CHUNK + 5)))
    const sizeOffset = 1 + (encoded[0] as number)
    for (const cut of [1, 31, 32, encoded.length - 10, encoded.length - 1]) {
      expect(() => decodeManifest(encoded.subarray(0, encoded.length - cut)), `cut ${cut}`).to.throw(ProtocolError)
    }
    expect(() => decodeManifest(Buffer.concat([encoded, Buffer.alloc(32)]))).to.throw(ProtocolError)
    expect(() => decodeManifest(new Uint8Array(0))).to.throw(ProtocolError)
    const wrongDomain = Buffer.from(encoded)
    wrongDomain[3] = (wrongDomain[3] as number) ^ 1
    expect(() => decodeManifest(wrongDomain)).to.throw(ProtocolError)
    const oddChunk = Buffer.from(encoded)
    oddChunk.writeUInt32BE(CHUNK - 1, sizeOffset + 8)
    expect(() => decodeManifest(oddChunk)).to.throw(ProtocolError, /multiple of 64/)
    // Claim one more chunk of file than the states cover.
    const wrongSize = Buffer.from(encoded)
    wrongSize.writeBigUInt64BE(BigInt(4 * CHUNK + 5), sizeOffset)
    expect(() => decodeManifest(wrongSize)).to.throw(ProtocolError)
  })

  it('refuses to encode states that do not match the size', function () {
    expect(() => encodeManifest({ size: 2 * CHUNK + 1, chunkSize: CHUNK, chunkStates: new Uint8Array(64) })).to.throw()
  })

  it('gives different roots to manifests differing in one state bit', function () {
    const a = manifestOf(2 * CHUNK)
    const b = { ...a, chunkStates: Uint8Array.from(a.chunkStates) }
    b.chunkStates[40] = (b.chunkStates[40] as number) ^ 1
    expect(manifestRoot(a)).to.match(/^[0-9a-f]{64}$/)
    expect(manifestRoot(b)).to.not.equal(manifestRoot(a))
  })
})

describe('signed file records (no processes)', function () {
  let key: Awaited<ReturnType<typeof generateKeyPair>>
  let otherKey: Awaited<ReturnType<typeof generateKeyPair>>
  let record: FileRecord
  let signed: Uint8Array
  let storageKey: Uint8Array

  before(async function () {
    key = await generateKeyPair('Ed25519')
    otherKey = await generateKeyPair('Ed25519')
    const cid = contentIdFromDigest(createHash('sha256').update('record test').digest()).text
    record = {
      version: 2,
      cid,
      peerId: peerIdFromPrivateKey(key).toString(),
      manifestRoot: createHash('sha256').update('manifest').digest('hex'),
      size: 5 * CHUNK,
      name: 'movie.mkv',
      chunkSize: CHUNK,
      addresses: ['/ip4/127.0.0.1/tcp/4001'],
      pricePerMiB: '1000',
      wallet: '0x' + '11'.repeat(20),
      walletProof: '0x' + '22'.repeat(65),
      transports: [{ name: 'native', endpoints: ['/chiral/transfer/1.0.0'] }, { name: 'http', endpoints: ['http://127.0.0.1:8080'] }],
      sequence: 7,
      expiresAt: Date.now() + 3600_000,
      withdrawn: false
    }
    signed = await signRecord(record, key)
    storageKey = recordKey(record.cid, record.peerId)
  })

  /** The signed bytes with the payload swapped for `changed`, keeping the original signature. */
  function withPayload (changed: unknown): Uint8Array {
    const buf = Buffer.from(signed)
    const payloadLength = buf.readUInt32BE(1)
    const signature = buf.subarray(5 + payloadLength + 2)
    const payload = Buffer.from(JSON.stringify(changed))
    const out = Buffer.alloc(1 + 4 + payload.length + 2 + signature.length)
    out.writeUInt8(buf.readUInt8(0), 0)
    out.writeUInt32BE(payload.length, 1)
    payload.copy(out, 5)
    out.writeUInt16BE(signature.length, 5 + payload.length)
    signature.copy(out, 7 + payload.length)
    return out
  }

  it('verifies as signed, under its own key', async function () {
    const verified = await verifyRecord(storageKey, signed)
    expect(verified).to.deep.equal(record)
    // withPayload with the unchanged record must still verify, or the tamper tests prove nothing.
    expect(await verifyRecord(storageKey, withPayload(record))).to.deep.equal(record)
  })

  for (const [field, value] of [
    ['pricePerMiB', '0'],
    ['wallet', '0x' + '22'.repeat(20)],
    ['manifestRoot', createHash('sha256').update('other manifest').digest('hex')],
    ['size', 6 * CHUNK],
    ['name', 'other.mkv'],
    ['addresses', ['/ip4/10.0.0.1/tcp/4001']],
    ['transports', [{ name: 'native', endpoints: ['/chiral/transfer/1.0.0'] }, { name: 'http', endpoints: ['http://evil.example:80'] }]],
    ['transports', [{ name: 'native', endpoints: ['/chiral/transfer/1.0.0'] }, { name: 'http', endpoints: ['http://127.0.0.1:8080'] }, { name: 'carrier-pigeon', endpoints: ['coop://7'] }]],
    ['sequence', 8],
    ['withdrawn', true],
    ['expiresAt', Date.now() + 7200_000]
  ] as const) {
    it(`fails when ${field} is changed to ${JSON.stringify(value).slice(-60)}`, async function () {
      const tampered = withPayload({ ...record, [field]: value })
      await expectRejects(verifyRecord(storageKey, tampered), /signature is invalid/)
    })
  }

  it('keeps transports this build does not know, signed like the rest, and bounds their names and counts', async function () {
    const newer = { ...record, transports: [{ name: 'carrier-pigeon', endpoints: ['coop://7', 'coop://8'] }, ...record.transports] }
    const verified = await verifyRecord(storageKey, await signRecord(newer, key))
    expect(verified.transports.map(entry => entry.name)).to.deep.equal(['carrier-pigeon', 'native', 'http'])
    expect(endpointsOf(verified, 'http')).to.deep.equal(['http://127.0.0.1:8080'])
    expect(endpointsOf(verified, 'bittorrent')).to.equal(undefined)
    for (const transports of [
      [{ name: 'Carrier Pigeon', endpoints: [] }],
      [{ name: 'x'.repeat(33), endpoints: [] }],
      [{ name: 'http', endpoints: ['a', 'b', 'c', 'd', 'e'] }],
      Array.from({ length: 17 }, (_, index) => ({ name: `t${index}`, endpoints: [] })),
      [{ name: 'http', endpoint: 'http://127.0.0.1:8080' }]
    ]) {
      await expectRejects(verifyRecord(storageKey, await signRecord({ ...record, transports } as unknown as FileRecord, key)), /schema/)
    }
  })

  it('fails when the peerId is changed (under the old or the new peer\'s key)', async function () {
    const otherPeer = peerIdFromPrivateKey(otherKey).toString()
    const tampered = withPayload({ ...record, peerId: otherPeer })
    await expectRejects(verifyRecord(storageKey, tampered), /another key/)
    await expectRejects(verifyRecord(recordKey(record.cid, otherPeer), tampered), /signature is invalid/)
  })

  it('fails when moved to another key (another file or another peer)', async function () {
    const otherCid = contentIdFromDigest(createHash('sha256').update('another file').digest()).text
    await expectRejects(verifyRecord(recordKey(otherCid, record.peerId), signed), /another key/)
    await expectRejects(verifyRecord(recordKey(record.cid, peerIdFromPrivateKey(otherKey).toString()), signed), /another key/)
    // Re-labelled as another file by whoever holds it, without the seeder's key: signature fails.
    const relabelled = withPayload({ ...record, cid: otherCid })
    await expectRejects(verifyRecord(recordKey(otherCid, record.peerId), relabelled), /signature is invalid/)
  })

  it('fails when signed by a key other than the one its peerId names', async function () {
    const forged = await signRecord(record, otherKey)
    await expectRejects(verifyRecord(storageKey, forged), /signature is invalid/)
  })

  it('fails once expired', async function () {
    await verifyRecord(storageKey, signed, record.expiresAt - 1)
    await expectRejects(verifyRecord(storageKey, signed, record.expiresAt), /expired/)
    await expectRejects(verifyRecord(storageKey, signed, record.expiresAt + 60_000), /expired/)
    const expired = await signRecord({ ...record, expiresAt: Date.now() - 1000 }, key)
    await expectRejects(verifyRecord(storageKey, expired), /expired/)
  })

  it('fails when truncated, bit-flipped or padded', async function () {
    await expectRejects(verifyRecord(storageKey, signed.subarray(0, signed.length - 1)), /signature length|truncated/)
    await expectRejects(verifyRecord(storageKey, signed.subarray(0, 20)), /truncated|format/)
    await expectRejects(verifyRecord(storageKey, Buffer.concat([signed, Buffer.from([0])])), /signature length/)
    const flipped = Buffer.from(signed)
    flipped[flipped.length - 5] = (flipped[flipped.length - 5] as number) ^ 0x01
    await expectRejects(verifyRecord(storageKey, flipped), /signature is invalid/)
  })

  it('rejects payloads outside the schema even when correctly signed', async function () {
    const bad = await signRecord({ ...record, pricePerMiB: '-5' } as FileRecord, key)
    await expectRejects(verifyRecord(storageKey, bad), /schema/)
    const extra = await signRecord({ ...record, extra: 1 } as unknown as FileRecord, key)
    await expectRejects(verifyRecord(storageKey, extra), /schema/)
  })
})

