import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createApiServer } from '../api/server.js'
import { loadConfig, type Config } from '../config/config.js'
import { ChiralNode, type NodeComponents } from '../daemon/chiral-node.js'
import { namePoolThreads } from '../native/thread-pool.js'
import { ChiralError, errorMessage } from '../util/errors.js'
import { createLogger } from '../util/log.js'

/**
 * The pairing link: the token rides in the #fragment, which browsers never send to a server,
 * and the dashboard moves it into its own storage. The dashboard answers on loopback only.
 */
function dashboardLink (apiHost: string, port: number, token: string): string {
  const wildcard = apiHost === '0.0.0.0' || apiHost === '::'
  if (!wildcard && !apiHost.startsWith('127.') && apiHost !== '::1' && apiHost !== 'localhost') {
    return `not served: the API listens on ${apiHost}, the dashboard answers on 127.0.0.1 only`
  }
  const host = wildcard || apiHost === 'localhost' ? '127.0.0.1' : apiHost.includes(':') ? `[${apiHost}]` : apiHost
  return `http://${host}:${port}/#token=${token}`
}

/** Runs a node with its API until SIGINT or SIGTERM, printing where everything is reachable. */
export async function runDaemon (home: string, overrides: Partial<Config>, components: NodeComponents = {}): Promise<void> {
  const config = loadConfig(home, overrides)
  namePoolThreads()
  mkdirSync(join(home, 'logs'), { recursive: true })
  const log = createLogger(config.logLevel, join(home, 'logs', 'chiral.log'))
  const node = new ChiralNode(home, config, log, components)
  await node.start()
  const api = await createApiServer(node)
  try {
    await api.listen({ host: config.apiHost, port: config.apiPort })
  } catch (err) {
    await node.stop()
    throw new ChiralError('PORT_IN_USE', `cannot listen for the API on ${config.apiHost}:${config.apiPort}: ${errorMessage(err)}`)
  }
  const address = api.server.address()
  const apiPort = typeof address === 'object' && address != null ? address.port : 0
  const apiUrl = apiPort === 0 ? '' : `http://${config.apiHost}:${apiPort}`
  await node.writeApiEndpoint(apiUrl)
  log.info({ apiUrl, peerId: node.host.peerId.toString() }, 'daemon started')
  process.stdout.write([
    `chiral node ${node.host.peerId.toString()}`,
    `  data directory  ${home}`,
    `  api             ${apiUrl}  (token in ${join(home, 'api-token')})`,
    `  dashboard       ${dashboardLink(config.apiHost, apiPort, node.apiToken)}`,
    `  http            ${node.httpServer.endpoints().join(' ')}`,
    `  json-rpc        ${node.chainService.rpcUrls?.url ?? ''}  (chain ${node.chainService.spec.name}, id ${node.chainService.chain.chainId})`,
    `  wallet          ${await node.wallet.address().catch(() => 'none')}${node.chainService.miner.mining ? '  (mining)' : ''}`,
    ...node.host.getMultiaddrs().map(address => `  p2p             ${address.toString()}`),
    ''
  ].join('\n'))

  // A failure in one peer's stream must not take the node down; it is logged and the node serves on.
  process.on('unhandledRejection', reason => { log.error({ err: errorMessage(reason) }, 'unhandled rejection') })

  let stopping = false
  const shutdown = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    Promise.all([api.close(), node.stop()]).then(() => process.exit(0), err => {
      process.stderr.write(`error while stopping: ${errorMessage(err)}\n`)
      process.exit(1)
    })
  }
  process.on('SIGINT', () => { shutdown('SIGINT') })
  process.on('SIGTERM', () => { shutdown('SIGTERM') })
}
