/**
 * `chiral add` and `chiral get`: loaded by program.ts only when one of them runs, so that commands
 * which only send a request to the daemon do not load the content-id library or the progress bar.
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { parseContentId } from '../content/cid.js'
import type { DownloadProgress } from '../transfer/downloads.js'
import { ChiralError, FileMissingError, NotAFileError } from '../util/errors.js'
import { formatBytes, parseWei } from '../util/units.js'
import type { ApiClient } from './client.js'
import { confirmCost } from './payment-commands.js'
import { ProgressBar } from './progress.js'

export async function addFile (client: () => ApiClient, file: string, options: { price?: string }): Promise<void> {
  const path = resolve(file)
  const info = await stat(path).catch(() => { throw new FileMissingError(path) })
  if (!info.isFile()) throw new NotAFileError(path)
  if (options.price != null) parseWei(options.price)
  const api = client()
  const bar = new ProgressBar('hashing')
  const controller = new AbortController()
  const watching = (async () => {
    for await (const event of api.events(controller.signal)) {
      const data = event.data as { path: string, bytes: number, total: number }
      if (event.type === 'add' && data.path === path) bar.update(data.bytes, data.total)
    }
  })().catch(() => {})
  try {
    const entry = await api.request<{ cid: string, name: string, size: number, pricePerMiB: string }>('POST', '/api/files', { path, pricePerMiB: options.price })
    bar.stop()
    process.stdout.write(`seeding ${entry.name} (${formatBytes(entry.size)}, ${entry.pricePerMiB === '0' ? 'free' : `${entry.pricePerMiB} wei/MiB`})\n${entry.cid}\n`)
  } finally {
    controller.abort()
    await watching
  }
}

export async function getFile (client: () => ApiClient, cidText: string, options: { output?: string, yes?: boolean, maxPrice?: string, force?: boolean }): Promise<void> {
  const { text: cid } = parseContentId(cidText)
  const api = client()
  const limits = await confirmCost(api, cid, options)
  await api.request('POST', '/api/downloads', { cid, output: options.output == null ? undefined : resolve(options.output), ...limits, overwrite: options.force === true ? true : undefined })
  const bar = new ProgressBar('downloading')
  for (;;) {
    const progress = await api.request<DownloadProgress>('GET', `/api/downloads/${cid}`)
    if (progress.size != null) bar.update(progress.bytesDone, progress.size, progress.speed)
    if (progress.state === 'completed') {
      bar.stop()
      process.stdout.write(`downloaded ${progress.outputPath ?? ''} (${formatBytes(progress.size ?? 0)}), now seeding it\n`)
      return
    }
    if (progress.state === 'failed' || progress.state === 'cancelled') {
      bar.stop()
      throw new ChiralError(progress.error?.code ?? 'DOWNLOAD_FAILED', progress.error?.message ?? `download ${progress.state}`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}
