import type { Daemon, DownloadView } from './daemon.js'
import { sleep } from './processes.js'

/** Samples a download's per-source stats while it runs (they vanish once it finishes). */
export function watchSources (daemon: Daemon, cid: string): { stop: () => Promise<Map<string, DownloadView['sources'][number]>>, latest: () => DownloadView | undefined } {
  const seen = new Map<string, DownloadView['sources'][number]>()
  let latest: DownloadView | undefined
  let running = true
  const loop = (async () => {
    while (running) {
      const response = await daemon.api<DownloadView>('GET', `/api/downloads/${cid}`).catch(() => undefined)
      if (response?.status === 200) {
        latest = response.body
        for (const source of response.body.sources) {
          const before = seen.get(source.id)
          if (before == null || source.bytes >= before.bytes || source.dropped != null) seen.set(source.id, { ...source, dropped: source.dropped ?? before?.dropped })
        }
      }
      await sleep(100)
    }
  })()
  return {
    latest: () => latest,
    stop: async () => {
      running = false
      await loop
      return seen
    }
  }
}

