/**
 * `npm run demo`: the whole product in one command. Three nodes on one local chain (dev genesis):
 * two seed the same file at different prices, the third pays to download it from both, the
 * seeders redeem the receipts, and the balances before and after are printed.
 */
import { randomBytes } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { formatChi } from '../node/wallet/units.js'
import { paidDownload, startPaidNetwork, walletOf } from './bench/paid-network.js'
import { killAll } from './bench/proc.js'
import type { Daemon } from './bench/daemon.js'

const FILE_MIB = 16
const PRICES = [10n ** 16n, 3n * 10n ** 16n]

const say = (text: string): void => { process.stdout.write(`${text}\n`) }

async function balances (daemons: Daemon[]): Promise<Map<Daemon, bigint>> {
  return new Map(await Promise.all(daemons.map(async daemon => [daemon, BigInt((await walletOf(daemon)).balance)] as const)))
}

async function main (): Promise<void> {
  say('starting 3 nodes on a local dev chain (the first start builds a 16 MiB Ethash cache, ~20 s)...')
  const network = await startPaidNetwork(PRICES.length, '0.5')
  const { leecher, seeders, root } = network
  const everyone = [leecher, ...seeders]
  try {
    const path = join(root, 'film.bin')
    writeFileSync(path, randomBytes(FILE_MIB * 1024 * 1024))
    let cid = ''
    for (const [index, seeder] of seeders.entries()) {
      const price = PRICES[index] ?? 0n
      cid = (await seeder.api<{ cid: string }>('POST', '/api/files', { path, pricePerMiB: price.toString() })).body.cid
      say(`${seeder.name} seeds ${FILE_MIB} MiB as ${cid} at ${formatChi(price)} CHI per MiB`)
    }
    const before = await balances(everyone)
    say('\nbalances before:')
    for (const daemon of everyone) say(`  ${daemon.name.padEnd(9)} ${(await walletOf(daemon)).address}  ${formatChi(before.get(daemon) ?? 0n)} CHI`)

    say(`\n${leecher.name} downloads ${cid}, paying per verified chunk...`)
    let shown = -1
    await paidDownload(leecher, cid, join(root, 'received.bin'), seeders.length, (done, size) => {
      const percent = size === 0 ? 0 : Math.floor(done / size * 10) * 10
      if (percent !== shown) say(`  ${percent}%`)
      shown = percent
    })
    for (const seeder of seeders) {
      const { body } = await seeder.api<{ txHashes: string[], claim: { amountWei: string } | null }>('POST', '/api/earnings/claim', {})
      say(`${seeder.name} redeemed ${formatChi(BigInt(body.claim?.amountWei ?? '0'))} CHI in ${body.txHashes[0] ?? '(nothing to redeem)'}`)
    }

    const after = await balances(everyone)
    say('\nbalances after (the leecher also mines, so its balance includes block rewards):')
    for (const daemon of everyone) {
      const change = (after.get(daemon) ?? 0n) - (before.get(daemon) ?? 0n)
      say(`  ${daemon.name.padEnd(9)} ${formatChi(after.get(daemon) ?? 0n)} CHI (${change >= 0n ? '+' : '-'}${formatChi(change >= 0n ? change : -change)})`)
    }
    say('\nseeders are paid for verified bytes whatever transport carried them; see `chiral earnings` on a node for the per-file ledger.')
  } finally {
    await network.stop()
    await killAll()
    rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
