import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Daemon } from './daemon.js'
import { sleep } from './proc.js'

/** The dev genesis funds the first accounts of this well-known test phrase; the leecher imports it. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'
/** Seeders do not mine and their rewards would go here anyway: their balances move only by payments and gas. */
const REWARD_SINK = '0x000000000000000000000000000000000000dEaD'
const SHARED_ETHASH_DIR = join(tmpdir(), 'chiral-ethash-test-cache')

export interface PaidNetwork {
  root: string
  leecher: Daemon
  seeders: Daemon[]
  stop: () => Promise<void>
}

export interface WalletView { address: string, balance: string, balanceChi: string }

/**
 * A local network on the dev genesis: a mining leecher holding the funded dev account, and
 * `seederCount` seeders that it funds with `seederGasChi` each for their redemption gas.
 */
export async function startPaidNetwork (seederCount: number, seederGasChi: string): Promise<PaidNetwork> {
  const root = mkdtempSync(join(tmpdir(), 'chiral-paid-'))
  const env = { CHIRAL_ETHASH_DIR: SHARED_ETHASH_DIR }
  const leecher = await Daemon.start({ name: 'leecher', home: join(root, 'leecher'), env, args: ['--genesis', 'dev'] })
  const seeders = await Promise.all(Array.from({ length: seederCount }, async (_, i) => await Daemon.start({
    name: `seeder-${i + 1}`, home: join(root, `seeder-${i + 1}`), env, bootstrap: leecher.p2p, args: ['--genesis', 'dev', '--coinbase', REWARD_SINK]
  })))
  const stop = async (): Promise<void> => { await Promise.all([leecher, ...seeders].map(async daemon => { await daemon.stop() })) }
  try {
    await leecher.waitForPeers(seederCount)
    await leecher.api('POST', '/api/wallet', { password: 'chiral-demo-password', mnemonic: DEV_MNEMONIC, force: true })
    await leecher.api('POST', '/api/mining/start', { threads: 1 })
    for (const seeder of seeders) {
      const { address } = await walletOf(seeder)
      await leecher.api('POST', '/api/wallet/send', { to: address, amount: seederGasChi })
    }
    for (const seeder of seeders) {
      while (BigInt((await walletOf(seeder)).balance) === 0n) await sleep(250)
    }
    return { root, leecher, seeders, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

export async function walletOf (daemon: Daemon): Promise<WalletView> {
  return (await daemon.api<WalletView>('GET', '/api/wallet')).body
}

export async function rpc<T> (daemon: Daemon, method: string, params: unknown[]): Promise<T> {
  const { body } = await daemon.api<{ urls: { rpc: string } }>('GET', '/api/status')
  const response = await fetch(body.urls.rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const reply = await response.json() as { result?: T, error?: { message: string } }
  if (reply.error != null) throw new Error(`${method}: ${reply.error.message}`)
  return reply.result as T
}

async function quoteFor (leecher: Daemon, cid: string): Promise<{ totalCostWei: string, seeders: unknown[] }> {
  try {
    return (await leecher.api<{ totalCostWei: string, seeders: unknown[] }>('POST', '/api/downloads/quote', { cid })).body
  } catch (err) {
    if (err instanceof Error && err.message.includes('NO_SEEDERS')) return { totalCostWei: '0', seeders: [] }
    throw err
  }
}

/** Starts a download through the API with the quoted cost as its limit and waits until it completes. */
export async function paidDownload (leecher: Daemon, cid: string, output: string, seeders: number, onProgress?: (done: number, size: number) => void): Promise<void> {
  let quote = await quoteFor(leecher, cid)
  // A record just published may take a moment to be found; quote once every seeder is.
  for (let attempt = 0; quote.seeders.length < seeders && attempt < 40; attempt++) {
    await sleep(250)
    quote = await quoteFor(leecher, cid)
  }
  await leecher.api('POST', '/api/downloads', { cid, output, maxCostWei: quote.totalCostWei })
  for (;;) {
    const { body } = await leecher.api<{ state: string, bytesDone: number, size?: number, error?: { message: string } }>('GET', `/api/downloads/${cid}`)
    onProgress?.(body.bytesDone, body.size ?? 0)
    if (body.state === 'completed') return
    if (body.state === 'failed' || body.state === 'cancelled') throw new Error(`download ${cid} ${body.state}: ${body.error?.message ?? ''}`)
    await sleep(50)
  }
}
