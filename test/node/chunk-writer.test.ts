import { randomBytes } from 'node:crypto'
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import { expect } from 'chai'
import { ChunkBufferPool } from '../../node/content/chunk-buffers.js'
import { native } from '../../node/native/index.js'
import { ChunkWriter } from '../../node/transfer/chunk-writer.js'

const CHUNK = 1024 * 1024

/**
 * Chunks written out of order from the kinds of buffers downloads use: the pool's page-aligned
 * buffers, unaligned slices, and a last chunk that is no whole number of disk blocks. On
 * a disk file system the aligned part goes through direct I/O; tmpfs has none, so the same writes
 * take the page-cache path.
 */
describe('chunk writer (no processes)', function () {
  const dirs: string[] = []
  after(function () { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }) })

  for (const [label, parent] of [['a disk file system (direct I/O)', '/tmp'], ['tmpfs (no direct I/O)', '/dev/shm']] as const) {
    it(`writes every byte where it belongs on ${label}`, async function () {
      const dir = mkdtempSync(join(parent, 'chiral-writer-'))
      dirs.push(dir)
      const path = join(dir, 'file.part')
      const size = 3 * CHUNK + 12345
      const content = randomBytes(size)
      const handle = await open(path, 'w+')
      await handle.truncate(size)
      const writer = await ChunkWriter.open(path, handle, CHUNK)
      try {
        const pooled = new ChunkBufferPool(CHUNK).acquire()
        pooled.set(content.subarray(2 * CHUNK, 3 * CHUNK))
        const unaligned = Buffer.alloc(CHUNK + 1)
        content.copy(unaligned, 1, 0, CHUNK)
        await Promise.all([
          writer.write(3, Uint8Array.from(content.subarray(3 * CHUNK))),
          writer.write(2, pooled),
          writer.write(0, unaligned.subarray(1)),
          writer.write(1, content.subarray(CHUNK, 2 * CHUNK))
        ])
      } finally {
        await writer.close()
        await handle.close()
      }
      expect(readFileSync(path).equals(content)).to.equal(true)
    })
  }

  // Direct I/O refuses an unaligned buffer (EINVAL), so this shows the pool's buffers reach the
  // disk without a bounce copy, which an unaligned allocation would silently cost.
  it('hands out page-aligned buffers that direct I/O writes as they are', function () {
    const dir = mkdtempSync(join('/tmp', 'chiral-aligned-'))
    dirs.push(dir)
    const fd = openSync(join(dir, 'direct'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT)
    try {
      const pool = new ChunkBufferPool(CHUNK)
      const buffers = [pool.acquire(), pool.acquire()]
      for (const [i, buffer] of buffers.entries()) expect(writeSync(fd, buffer, 0, CHUNK, i * CHUNK)).to.equal(CHUNK)
      const unaligned = Buffer.alloc(CHUNK + 16).subarray(16)
      expect(() => writeSync(fd, unaligned, 0, CHUNK, 2 * CHUNK)).to.throw(/EINVAL/)
    } finally {
      closeSync(fd)
    }
  })

  it('refuses aligned buffers of no size, too large or not whole', function () {
    for (const size of [0, -1, 1.5, 2 ** 31, Number.NaN]) {
      expect(() => native.alignedBuffer(size), String(size)).to.throw(/size must be an integer/)
    }
    expect(native.alignedBuffer(5).byteLength).to.equal(5)
  })
})
