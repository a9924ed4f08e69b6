/**
 * Payment benchmark on a real local chain: on-chain transactions per download and per
 * leecher-seeder relationship over 10 downloads, payment bytes per MiB of data, and the time from
 * the last chunk to redeemed funds. Writes its section of BENCHMARKS.md.
 * Usage: node dist/scripts/bench-payments.js (after npm run build)
 */
import { randomBytes } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeBenchSection } from './bench/sections.js'
import { paidDownload, rpc, startPaidNetwork, walletOf } from './bench/paid-network.js'
import { killAll } from './bench/proc.js'
import type { Daemon } from './bench/daemon.js'

const MARKER = '<!-- payments-bench -->'
const BENCHMARKS = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))
const DOWNLOADS = 10
const FILE_MIB = 8
const PRICES = [10n ** 16n, 2n * 10n ** 16n]

const log = (message: string): void => { process.stderr.write(`[bench-payments ${new Date().toISOString().slice(11, 19)}] ${message}\n`) }

async function nonce (daemon: Daemon): Promise<number> {
  return Number(await rpc<string>(daemon, 'eth_getTransactionCount', [(await walletOf(daemon)).address, 'latest']))
}

async function main (): Promise<void> {
  const started = Date.now()
  const network = await startPaidNetwork(PRICES.length, '1')
  const { leecher, seeders, root } = network
  try {
    const leecherStart = await nonce(leecher)
    const seederStart = await Promise.all(seeders.map(nonce))
    let lastCompleted = 0
    for (let i = 0; i < DOWNLOADS; i++) {
      const path = join(root, `file-${i}.bin`)
      writeFileSync(path, randomBytes(FILE_MIB * 1024 * 1024))
      let cid = ''
      for (const [index, seeder] of seeders.entries()) {
        const { body } = await seeder.api<{ cid: string }>('POST', '/api/files', { path, pricePerMiB: PRICES[index]?.toString() })
        cid = body.cid
      }
      await paidDownload(leecher, cid, join(root, `received-${i}.bin`), seeders.length)
      lastCompleted = Date.now()
      log(`download ${i + 1}/${DOWNLOADS} done`)
    }
    const claims = await Promise.all(seeders.map(async seeder => (await seeder.api<{ txHashes: string[] }>('POST', '/api/earnings/claim', {})).body.txHashes))
    const redeemedAfterMs = Date.now() - lastCompleted
    const escrowTxs = (await nonce(leecher)) - leecherStart
    const claimTxs = (await Promise.all(seeders.map(nonce))).reduce((sum, n, i) => sum + n - (seederStart[i] ?? 0), 0)
    const { body: traffic } = await leecher.api<{ sentBytes: number, receivedBytes: number }>('GET', '/api/payments/traffic')
    const dataMiB = DOWNLOADS * FILE_MIB
    const paymentBytes = traffic.sentBytes + traffic.receivedBytes
    const perRelationship = (escrowTxs + claimTxs) / seeders.length
    const overheadPercent = paymentBytes / (dataMiB * 1024 * 1024) * 100
    log(`escrow txs ${escrowTxs}, claim txs ${claimTxs} (${claims.flat().length} hashes), payment bytes ${paymentBytes}`)
    const section = [
      MARKER, '', '## Payments benchmark', '',
      `Command: \`node dist/scripts/bench-payments.js\` (part of \`npm run bench\`). Machine: ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown'}, Node ${process.version}. ` +
        `Date: ${new Date().toISOString()}. Wall time ${((Date.now() - started) / 60_000).toFixed(1)} min.`, '',
      `A leecher (mining, dev genesis, 2 s blocks) downloads ${DOWNLOADS} different ${FILE_MIB} MiB files, each from the same ${seeders.length} seeders ` +
        `(${PRICES.map(p => `${p} wei/MiB`).join(' and ')}), over native and HTTP; after the last download each seeder redeems once (\`POST /api/earnings/claim\`, as \`chiral claim\`). ` +
        'Transactions are counted from the wallets\' nonces; payment bytes are every frame on the payment streams, both directions.', '',
      '| measurement | result | target | status |', '|---|---|---|---|',
      `| on-chain transactions, ${seeders.length} leecher-seeder relationships, ${DOWNLOADS} downloads | ${escrowTxs} escrow (open/top-up) + ${claimTxs} redeem = ${escrowTxs + claimTxs}: **${perRelationship.toFixed(1)} per relationship**, ${((escrowTxs + claimTxs) / DOWNLOADS).toFixed(2)} per download | <= 2 per relationship over 10 downloads | **${perRelationship <= 2 ? 'met' : 'not met'}** |`,
      `| payment traffic per MiB of data | ${(paymentBytes / dataMiB).toFixed(0)} bytes/MiB (${paymentBytes} bytes for ${dataMiB} MiB) = **${overheadPercent.toFixed(3)}%** | < 1% | **${overheadPercent < 1 ? 'met' : 'not met'}** |`,
      `| last chunk verified -> both seeders' redemptions mined | ${(redeemedAfterMs / 1000).toFixed(2)} s | — (reported) | — |`,
      ''
    ].join('\n')
    process.stdout.write(section)
    writeBenchSection(BENCHMARKS, MARKER, section)
  } finally {
    await network.stop()
    await killAll()
    rmSync(root, { recursive: true, force: true })
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-payments failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exitCode = 1
})
