import type { Daemon, DownloadProgress, DownloadSource } from './daemon.js'
import { procStatusBytes, resetPeakRss, sleep } from './proc.js'
import { readProcessStats, statsSince, sumStats, type ProcessStats } from './proc-stats.js'

export interface DownloadRun {
  /** POST /api/downloads until GET shows state completed: what a user waits for. */
  totalMs: number
  /** POST until GET first shows bytesDone > 0 (or completed): discovery, manifest, first chunk. */
  ttfbMs: number
  /** First bytes seen until bytesDone == size: the data transfer alone. */
  transferMs: number
  /** bytesDone == size until completed: fsync, whole-file SHA-256, rename, start seeding. */
  finishMs: number
  /** Per source (seeder x transport) bytes, from the last poll that still listed them. */
  sources: DownloadSource[]
  /** Peak RSS of the downloader daemon during this download (VmHWM after a reset). */
  peakRss: number
  /** Most seeders the download reported at once (discovery result). */
  seedersFound: number
  /** RSS of the downloader daemon just before the download. */
  rssBefore: number
  /** Whether the peak covers only this download (clear_refs worked) or the whole process life. */
  peakRssScoped: boolean
  /** Where the downloader's and the given seeder processes' time went from POST to completed. */
  stats: { downloader: ProcessStats, seeders: ProcessStats }
}

/**
 * Starts a download through the API and polls it every `pollMs` until it completes, timing
 * each phase as the API reports it, and counting the CPU the downloader and `seederPids` used.
 */
export async function timedDownload (daemon: Daemon, cid: string, output: string, pollMs: number, timeoutMs = 300_000, seederPids: number[] = []): Promise<DownloadRun> {
  const rssBefore = procStatusBytes(daemon.pid, 'VmRSS')
  const peakRssScoped = resetPeakRss(daemon.pid)
  const seedersStats = (): ProcessStats[] => seederPids.map(readProcessStats)
  const before = { downloader: readProcessStats(daemon.pid), seeders: seedersStats() }
  const started = performance.now()
  const { status } = await daemon.api('POST', '/api/downloads', { cid, output })
  if (status !== 202) throw new Error(`${daemon.name}: POST /api/downloads answered ${status}, expected 202`)
  let firstBytesAt: number | undefined
  let fullAt: number | undefined
  let sources: DownloadSource[] = []
  let seedersFound = 0
  for (;;) {
    const { body: progress } = await daemon.api<DownloadProgress>('GET', `/api/downloads/${cid}`)
    const now = performance.now()
    if (progress.sources.length > 0) sources = progress.sources
    seedersFound = Math.max(seedersFound, progress.seeders ?? 0)
    if (firstBytesAt == null && (progress.bytesDone > 0 || progress.state === 'completed')) firstBytesAt = now
    if (fullAt == null && progress.size != null && (progress.bytesDone >= progress.size || progress.state === 'verifying' || progress.state === 'completed')) fullAt = now
    if (progress.state === 'completed') {
      return {
        totalMs: now - started,
        ttfbMs: (firstBytesAt ?? now) - started,
        transferMs: (fullAt ?? now) - (firstBytesAt ?? now),
        finishMs: now - (fullAt ?? now),
        sources,
        seedersFound,
        peakRss: procStatusBytes(daemon.pid, 'VmHWM'),
        rssBefore,
        peakRssScoped,
        stats: {
          downloader: statsSince(readProcessStats(daemon.pid), before.downloader),
          seeders: sumStats(seedersStats().map((after, index) => statsSince(after, before.seeders[index] ?? after)))
        }
      }
    }
    if (progress.state === 'failed' || progress.state === 'cancelled') {
      throw new Error(`${daemon.name}: download ${progress.state}: ${progress.error?.code ?? ''} ${progress.error?.message ?? ''}`)
    }
    if (now - started > timeoutMs) throw new Error(`${daemon.name}: download not done after ${timeoutMs} ms (${progress.state}, ${progress.bytesDone} bytes)`)
    await sleep(pollMs)
  }
}

/** Bytes delivered per transport and the number of distinct seeders that delivered any. */
export function summarizeSources (sources: DownloadSource[]): { native: number, http: number, seeders: number } {
  let native = 0
  let http = 0
  const seeders = new Set<string>()
  for (const source of sources) {
    if (source.transport === 'native') native += source.bytes
    else http += source.bytes
    if (source.bytes > 0) seeders.add(source.peerId)
  }
  return { native, http, seeders: seeders.size }
}
