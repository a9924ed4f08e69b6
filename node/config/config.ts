import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  DEFAULT_CREDIT_WINDOW_BYTES, DEFAULT_ESCROW_DURATION_SECONDS, DEFAULT_ESCROW_MINIMUM_DEPOSIT_WEI, DEFAULT_REDEEM_CONFIRMATIONS,
  DEFAULT_REDEEM_THRESHOLD_WEI
} from '../payments/constants.js'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { InvalidInputError } from '../util/errors.js'
import { parseByteRate } from '../util/units.js'
import { MAX_BYTE_RATE } from './constants.js'
import {
  CONFIG_FILENAME, DEFAULT_API_PORT, DEFAULT_HISTORY_INTERVAL_MS, DEFAULT_HTTP_PORT, DEFAULT_P2P_TCP_PORT,
  DEFAULT_P2P_WS_PORT, DEFAULT_RECORD_TTL_SECONDS, DEFAULT_RPC_PORT, LOOPBACK
} from './constants.js'

const Port = Type.Integer({ minimum: 0, maximum: 65535 })

export const ConfigSchema = Type.Object({
  listen: Type.Array(Type.String(), { description: 'libp2p listen multiaddrs' }),
  announce: Type.Array(Type.String(), { description: 'multiaddrs to announce instead of the listen ones' }),
  bootstrap: Type.Array(Type.String(), { description: 'multiaddrs (with /p2p/<id>) of peers to join through' }),
  apiHost: Type.String(),
  apiPort: Port,
  httpHost: Type.String(),
  httpPort: Port,
  maxUploadRate: Type.Integer({ minimum: 0, maximum: MAX_BYTE_RATE, description: 'bytes per second, 0 = unlimited' }),
  maxDownloadRate: Type.Integer({ minimum: 0, maximum: MAX_BYTE_RATE, description: 'bytes per second, 0 = unlimited' }),
  defaultPricePerMiB: Type.String({ pattern: '^[0-9]{1,78}$', description: 'wei per MiB for newly added files' }),
  recordTtlSeconds: Type.Integer({ minimum: 10 }),
  downloadTransports: Type.Array(Type.Union([Type.Literal('native'), Type.Literal('http')]), {
    minItems: 1, uniqueItems: true, description: 'transports this node downloads over'
  }),
  chainGenesis: Type.String({ description: 'built-in genesis name (chiral, dev) or a path to a genesis JSON file' }),
  mine: Type.Boolean({ description: 'mine blocks on start' }),
  minerThreads: Type.Integer({ minimum: 1, maximum: 256 }),
  coinbase: Type.String({ pattern: '^(0x[0-9a-fA-F]{40})?$', description: 'mining reward address; empty = the node wallet' }),
  rpcHost: Type.String(),
  rpcPort: Port,
  ethashCacheDir: Type.String({ description: 'where Ethash light caches are kept; empty = <home>/ethash' }),
  creditWindowBytes: Type.Integer({ minimum: 0, description: 'bytes served to a paying peer ahead of its receipts' }),
  escrowDurationSeconds: Type.Integer({ minimum: 60, description: 'lifetime of the escrows this node opens as a leecher' }),
  redeemThresholdWei: Type.String({ pattern: '^[0-9]{1,78}$', description: 'signed but unredeemed wei at which a seeder redeems on its own' }),
  redeemConfirmations: Type.Integer({ minimum: 1, maximum: 10_000, description: 'confirmations (blocks) after which a claim is final; a reorganisation that drops it before makes it claimable again' }),
  escrowMinimumDepositWei: Type.String({ pattern: '^[0-9]{1,78}$', description: 'smallest deposit of a new escrow, so later downloads reuse it' }),
  historyIntervalMs: Type.Integer({ minimum: 100, maximum: 600_000, description: 'how often the bandwidth and hashrate history (GET /api/history) takes a sample' }),
  logLevel: Type.Union(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map(level => Type.Literal(level)))
}, { additionalProperties: false })

export type Config = Static<typeof ConfigSchema>

export function defaultConfig (): Config {
  return {
    listen: [`/ip4/0.0.0.0/tcp/${DEFAULT_P2P_TCP_PORT}`, `/ip4/0.0.0.0/tcp/${DEFAULT_P2P_WS_PORT}/ws`],
    announce: [],
    bootstrap: [],
    apiHost: LOOPBACK,
    apiPort: DEFAULT_API_PORT,
    httpHost: '0.0.0.0',
    httpPort: DEFAULT_HTTP_PORT,
    maxUploadRate: 0,
    maxDownloadRate: 0,
    defaultPricePerMiB: '0',
    recordTtlSeconds: DEFAULT_RECORD_TTL_SECONDS,
    downloadTransports: ['native', 'http'],
    chainGenesis: 'chiral',
    mine: true,
    minerThreads: 1,
    coinbase: '',
    rpcHost: LOOPBACK,
    rpcPort: DEFAULT_RPC_PORT,
    ethashCacheDir: '',
    creditWindowBytes: DEFAULT_CREDIT_WINDOW_BYTES,
    escrowDurationSeconds: DEFAULT_ESCROW_DURATION_SECONDS,
    redeemThresholdWei: DEFAULT_REDEEM_THRESHOLD_WEI,
    redeemConfirmations: DEFAULT_REDEEM_CONFIRMATIONS,
    escrowMinimumDepositWei: DEFAULT_ESCROW_MINIMUM_DEPOSIT_WEI,
    historyIntervalMs: DEFAULT_HISTORY_INTERVAL_MS,
    logLevel: 'info'
  }
}

/** Environment variables that override the config file, each named after its field. */
const ENV_OVERRIDES: Record<string, (config: Config, value: string) => void> = {
  CHIRAL_LISTEN: (c, v) => { c.listen = splitList(v) },
  CHIRAL_ANNOUNCE: (c, v) => { c.announce = splitList(v) },
  CHIRAL_BOOTSTRAP: (c, v) => { c.bootstrap = splitList(v) },
  CHIRAL_API_HOST: (c, v) => { c.apiHost = v },
  CHIRAL_API_PORT: (c, v) => { c.apiPort = Number(v) },
  CHIRAL_HTTP_HOST: (c, v) => { c.httpHost = v },
  CHIRAL_HTTP_PORT: (c, v) => { c.httpPort = Number(v) },
  CHIRAL_MAX_UPLOAD_RATE: (c, v) => { c.maxUploadRate = parseByteRate(v) },
  CHIRAL_MAX_DOWNLOAD_RATE: (c, v) => { c.maxDownloadRate = parseByteRate(v) },
  CHIRAL_DEFAULT_PRICE_PER_MIB: (c, v) => { c.defaultPricePerMiB = v },
  CHIRAL_RECORD_TTL_SECONDS: (c, v) => { c.recordTtlSeconds = Number(v) },
  CHIRAL_DOWNLOAD_TRANSPORTS: (c, v) => { c.downloadTransports = splitList(v) as Config['downloadTransports'] },
  CHIRAL_GENESIS: (c, v) => { c.chainGenesis = v },
  CHIRAL_MINE: (c, v) => { c.mine = v === '1' || v === 'true' },
  CHIRAL_MINER_THREADS: (c, v) => { c.minerThreads = Number(v) },
  CHIRAL_COINBASE: (c, v) => { c.coinbase = v },
  CHIRAL_RPC_HOST: (c, v) => { c.rpcHost = v },
  CHIRAL_RPC_PORT: (c, v) => { c.rpcPort = Number(v) },
  CHIRAL_ETHASH_DIR: (c, v) => { c.ethashCacheDir = v },
  CHIRAL_CREDIT_WINDOW_BYTES: (c, v) => { c.creditWindowBytes = Number(v) },
  CHIRAL_ESCROW_DURATION_SECONDS: (c, v) => { c.escrowDurationSeconds = Number(v) },
  CHIRAL_REDEEM_THRESHOLD_WEI: (c, v) => { c.redeemThresholdWei = v },
  CHIRAL_REDEEM_CONFIRMATIONS: (c, v) => { c.redeemConfirmations = Number(v) },
  CHIRAL_ESCROW_MINIMUM_DEPOSIT_WEI: (c, v) => { c.escrowMinimumDepositWei = v },
  CHIRAL_HISTORY_INTERVAL_MS: (c, v) => { c.historyIntervalMs = Number(v) },
  CHIRAL_LOG_LEVEL: (c, v) => { c.logLevel = v as Config['logLevel'] }
}

function splitList (value: string): string[] {
  return value.split(',').map(item => item.trim()).filter(item => item.length > 0)
}

/**
 * Loads `<home>/config.json` (writing the defaults on first run so users can see and edit them),
 * then applies environment overrides and finally the caller's overrides (CLI flags).
 */
export function loadConfig (home: string, overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = process.env): Config {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  const path = join(home, CONFIG_FILENAME)
  const config = defaultConfig()
  if (existsSync(path)) {
    let fromFile: unknown
    try {
      fromFile = JSON.parse(readFileSync(path, 'utf8'))
    } catch (err) {
      throw new InvalidInputError(`config file ${path} is not valid JSON: ${(err as Error).message}`)
    }
    Object.assign(config, fromFile)
  } else {
    writeFileSync(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
  }
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name]
    if (value != null && value !== '') apply(config, value)
  }
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) (config as Record<string, unknown>)[key] = value
  }
  const firstError = Value.Errors(ConfigSchema, config).First()
  if (firstError != null) {
    throw new InvalidInputError(`invalid configuration ${firstError.path || '/'}: ${firstError.message} (from ${path}, CHIRAL_* variables or flags)`)
  }
  return config
}
