/**
 * The `chiral` command line: every command, parsed and run on import (main.ts loads it, unless
 * quick.ts has run the command). Commands that only send a request to the daemon run from the
 * modules imported here, which must stay light (no chain, ethers, libp2p, config schema or
 * content-id library: test/node/cli-modules.test.ts); the others import what they need when they run.
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import type { Config } from '../config/config.js'
import { resolveHome } from '../config/home.js'
import { errorMessage } from '../util/errors.js'
import { parseByteRate } from '../util/units.js'
import { listFiles, showPeers, showStatus, type JsonOption } from './api-commands.js'
import { registerChainCommands } from './chain-commands.js'
import { ApiClient } from './client.js'
import { exitWithError } from './exit.js'
import { registerPaymentCommands } from './payment-commands.js'

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
const port = (value: string): number => {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 65535) throw new InvalidArgumentError('a port is 0-65535 (0 = any free port)')
  return parsed
}
const positiveInteger = (value: string): number => {
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('a whole number of at least 1')
  return parsed
}
const rate = (value: string): number => {
  try { return parseByteRate(value) } catch (err) { throw new InvalidArgumentError(errorMessage(err)) }
}

const program = new Command()
program
  .name('chiral')
  .description('Chiral Network: share files peer to peer, and get paid for seeding')
  .option('--home <dir>', 'data directory (default $CHIRAL_HOME or ~/.chiral)')
  .showHelpAfterError()

const home = (): string => resolveHome(program.opts<{ home?: string }>().home)
const client = (): ApiClient => new ApiClient(home())

program.command('daemon')
  .description('run a node: DHT, transports and the local API')
  .option('--listen <multiaddr>', 'libp2p listen address (repeatable)', collect)
  .option('--bootstrap <multiaddr>', 'peer to join through, with /p2p/<id> (repeatable)', collect)
  .option('--announce <multiaddr>', 'address to announce instead of the listen ones (repeatable)', collect)
  .option('--api-port <port>', 'local API port (0 = any free port)', port)
  .option('--http-port <port>', 'HTTP transfer port (0 = any free port)', port)
  .option('--http-host <host>', 'HTTP transfer bind address')
  .option('--rpc-port <port>', 'Ethereum JSON-RPC port on 127.0.0.1 (0 = any free port)', port)
  .option('--genesis <name-or-path>', 'chain genesis: chiral, dev, or a genesis JSON file')
  .option('--mine', 'mine blocks (the default)')
  .option('--no-mine', 'do not mine')
  .option('--miner-threads <n>', 'mining threads', positiveInteger)
  .option('--coinbase <address>', 'mining reward address (default: the node wallet)')
  .option('--max-upload-rate <rate>', 'upload limit in bytes/s, e.g. 10M (0 = unlimited)', rate)
  .option('--max-download-rate <rate>', 'download limit in bytes/s, e.g. 10M (0 = unlimited)', rate)
  .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
  .action(async (options: { listen?: string[], bootstrap?: string[], announce?: string[], apiPort?: number, httpPort?: number, httpHost?: string, rpcPort?: number, genesis?: string, mine?: boolean, minerThreads?: number, coinbase?: string, maxUploadRate?: number, maxDownloadRate?: number, logLevel?: Config['logLevel'] }) => {
    // Loaded only here: libp2p and the servers cost ~0.4 s of start-up that other commands skip.
    const { runDaemon } = await import('./daemon.js')
    await runDaemon(home(), {
      listen: options.listen,
      bootstrap: options.bootstrap,
      announce: options.announce,
      apiPort: options.apiPort,
      httpPort: options.httpPort,
      httpHost: options.httpHost,
      rpcPort: options.rpcPort,
      chainGenesis: options.genesis,
      // Commander sets mine=true by default because of --no-mine; only an explicit flag overrides the config.
      mine: process.argv.includes('--no-mine') ? false : process.argv.includes('--mine') ? true : undefined,
      minerThreads: options.minerThreads,
      coinbase: options.coinbase,
      maxUploadRate: options.maxUploadRate,
      maxDownloadRate: options.maxDownloadRate,
      logLevel: options.logLevel
    })
  })

program.command('add <file>')
  .description('seed a file from where it lies; prints its content id last')
  .option('--price <wei-per-MiB>', 'price in wei per MiB (0 = free)')
  .action(async (file: string, options: { price?: string }) => {
    const { addFile } = await import('./transfer-commands.js')
    await addFile(client, file, options)
  })

program.command('get <cid>')
  .description('download a file from its seeders, verify it, then seed it')
  .option('-o, --output <path>', 'file path or existing directory (default: <home>/downloads/<name>)')
  .option('-y, --yes', 'accept the quoted cost without asking')
  .option('--max-price <wei-per-MiB>', 'use no seeder asking more (0 = free seeders only)')
  .option('--force', 'replace an existing file at the output path (else a taken name is refused, or numbered in a directory)')
  .action(async (cidText: string, options: { output?: string, yes?: boolean, maxPrice?: string, force?: boolean }) => {
    const { getFile } = await import('./transfer-commands.js')
    await getFile(client, cidText, options)
  })

program.command('ls')
  .description('list seeded files and downloads')
  .option('--json', 'print JSON')
  .action(async (options: JsonOption) => { await listFiles(client(), options) })

program.command('stop <cid>')
  .description('stop seeding a file (it stays on disk)')
  .action(async (cidText: string) => {
    const { parseContentId } = await import('../content/cid.js')
    const { text: cid } = parseContentId(cidText)
    await client().request('POST', `/api/files/${cid}/stop`)
    process.stdout.write(`stopped seeding ${cid}\n`)
  })

program.command('status')
  .description('node identity, addresses, URLs and totals')
  .option('--json', 'print JSON')
  .action(async (options: JsonOption) => { await showStatus(client(), options) })

program.command('peers')
  .description('connected and known peers with transfer statistics')
  .option('--json', 'print JSON')
  .action(async (options: JsonOption) => { await showPeers(client(), options) })

program.command('connect <multiaddr>')
  .description('connect the running daemon to a peer')
  .action(async (address: string) => {
    const { peerId } = await client().request<{ peerId: string }>('POST', '/api/peers', { address })
    process.stdout.write(`connected to ${peerId}\n`)
  })

program.command('limits')
  .description('show or change rate limits on the running daemon')
  .option('--max-upload-rate <rate>', 'bytes/s, e.g. 10M (0 = unlimited)', rate)
  .option('--max-download-rate <rate>', 'bytes/s, e.g. 10M (0 = unlimited)', rate)
  .action(async (options: { maxUploadRate?: number, maxDownloadRate?: number }) => {
    const api = client()
    const changed = options.maxUploadRate != null || options.maxDownloadRate != null
    const limits = changed
      ? await api.request<{ maxUploadRate: number, maxDownloadRate: number }>('PATCH', '/api/settings/limits', options)
      : await api.request<{ maxUploadRate: number, maxDownloadRate: number }>('GET', '/api/settings/limits')
    process.stdout.write(`upload ${limits.maxUploadRate} B/s, download ${limits.maxDownloadRate} B/s (0 = unlimited)\n`)
  })

registerChainCommands(program, home, client)
registerPaymentCommands(program, client)

program.parseAsync().catch(exitWithError)
