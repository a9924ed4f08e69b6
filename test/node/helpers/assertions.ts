import { existsSync } from 'node:fs'
import { expect } from 'chai'
import { cidDigestHex, sha256File, type TestFile } from './files.js'

/** The downloaded file exists, has the original's bytes, and those bytes are what the cid names. */
export async function expectIntactDownload (outputPath: string, original: TestFile, cid: string): Promise<void> {
  expect(existsSync(outputPath), `${outputPath} exists`).to.equal(true)
  expect(existsSync(`${outputPath}.chiral-part`), 'partial file is gone').to.equal(false)
  const digest = await sha256File(outputPath)
  expect(digest, 'sha256 of the download').to.equal(original.sha256)
  expect(cidDigestHex(cid), 'digest named by the content id').to.equal(original.sha256)
}
