import { multiaddr } from '@multiformats/multiaddr'
import { errorMessage } from '../util/errors.js'
import type { Logger } from '../util/log.js'
import type { ChiralLibp2p } from './host.js'

/**
 * libp2p's bootstrap discovery dials its list once: a node whose first dials failed (a busy
 * machine, a bootstrap node still starting) would stay alone for good. While the host has no
 * connection at all, this dials the bootstrap addresses again every `intervalMs`.
 */
export function redialBootstrapWhileAlone (host: ChiralLibp2p, addresses: string[], intervalMs: number, log: Logger): () => void {
  if (addresses.length === 0) return () => {}
  let dialing = false
  const timer = setInterval(() => {
    if (dialing || host.getConnections().length > 0) return
    dialing = true
    void Promise.allSettled(addresses.map(async address => await host.dial(multiaddr(address), { signal: AbortSignal.timeout(intervalMs) })))
      .then(results => {
        const failed = results.filter(result => result.status === 'rejected')
        if (failed.length === results.length) log.debug({ err: errorMessage((failed[0] as PromiseRejectedResult).reason) }, 'no bootstrap peer answered; trying again later')
      })
      .finally(() => { dialing = false })
  }, intervalMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
