import type { Command } from 'commander'
import { createInterface } from 'node:readline/promises'
import { ChiralError, InvalidInputError } from '../util/errors.js'
import { formatBytes, parseWei } from '../util/units.js'
import { formatChi } from '../wallet/units.js'
import type { ApiClient } from './client.js'

interface QuoteView {
  cid: string
  name: string
  size: number
  seeders: Array<{ peerId: string, wallet: string, pricePerMiB: string, transports: string[] }>
  totalCostWei: string
}

interface EarningsTotals { pendingWei: string, confirmingWei: string, redeemedWei: string, bytes: string }
interface EarningsView {
  pendingWei: string
  confirmingWei: string
  redeemedWei: string
  files: Array<EarningsTotals & { cid: string, name?: string }>
  peers: Array<EarningsTotals & { peerId: string, wallet: string }>
  claims: Array<{ txHash: string, amountWei: string, at: number, escrows: number, status?: string, confirmations?: number, droppedAt?: number }>
}

/** pending, confirming and redeemed (final) amounts of one row, in wei. */
function amounts (row: Omit<EarningsTotals, 'bytes'>): string {
  return `pending ${row.pendingWei} wei  confirming ${row.confirmingWei} wei  redeemed ${row.redeemedWei} wei`
}

function claimState (claim: EarningsView['claims'][number]): string {
  const status = claim.status ?? 'final'
  const depth = status === 'confirming' && claim.confirmations != null ? ` (${claim.confirmations} confirmation${claim.confirmations === 1 ? '' : 's'})` : ''
  const reorg = claim.droppedAt != null && status !== 'dropped' ? `, dropped by a reorganisation at ${new Date(claim.droppedAt).toISOString()} and mined again` : ''
  return `${status}${depth}${reorg}`
}

/**
 * Shows what a download will cost and asks before any byte moves. Returns the limits the node
 * enforces, so the price the user accepted cannot grow behind their back.
 */
export async function confirmCost (api: ApiClient, cid: string, options: { yes?: boolean, maxPrice?: string }): Promise<{ maxPricePerMiB?: string, maxCostWei?: string }> {
  if (options.maxPrice != null) parseWei(options.maxPrice, '--max-price')
  const quote = await api.request<QuoteView>('POST', '/api/downloads/quote', { cid, maxPricePerMiB: options.maxPrice })
  const cost = BigInt(quote.totalCostWei)
  if (quote.seeders.length === 0) throw new ChiralError('COST_TOO_HIGH', `every seeder of ${cid} asks more than ${options.maxPrice ?? ''} wei per MiB`)
  const limits = { maxPricePerMiB: options.maxPrice, maxCostWei: quote.totalCostWei }
  if (cost === 0n) return limits
  process.stderr.write(`${quote.name} (${formatBytes(quote.size)}) from ${quote.seeders.length} seeder(s):\n`)
  for (const seeder of quote.seeders) {
    process.stderr.write(`  ${seeder.peerId}  ${seeder.pricePerMiB === '0' ? 'free' : `${seeder.pricePerMiB} wei/MiB`}  via ${seeder.transports.join(', ')}\n`)
  }
  process.stderr.write(`costs at most ${formatChi(cost)} CHI (${cost} wei), held in escrow and paid per verified chunk\n`)
  if (options.yes === true) return limits
  if (!process.stdin.isTTY) throw new InvalidInputError('this download costs CHI: confirm with --yes (and cap it with --max-price)')
  const prompt = createInterface({ input: process.stdin, output: process.stderr })
  const answer = await prompt.question('download? [y/N] ').finally(() => { prompt.close() })
  if (!/^y(es)?$/i.test(answer.trim())) throw new ChiralError('CANCELLED', 'download cancelled; nothing was paid')
  return limits
}

/** `chiral earnings` (also run by quick.ts, without the argument parser). */
export async function showEarnings (api: ApiClient, options: { json?: boolean }): Promise<void> {
  const view = await api.request<EarningsView>('GET', '/api/earnings')
  if (options.json === true) {
    process.stdout.write(JSON.stringify(view, null, 2) + '\n')
    return
  }
  process.stdout.write(`pending ${formatChi(BigInt(view.pendingWei))} CHI, confirming ${formatChi(BigInt(view.confirmingWei))} CHI, redeemed ${formatChi(BigInt(view.redeemedWei))} CHI\n`)
  for (const file of view.files) process.stdout.write(`file ${file.cid}  ${formatBytes(Number(file.bytes))}  ${amounts(file)}\n`)
  for (const peer of view.peers) process.stdout.write(`peer ${peer.peerId} (${peer.wallet})  ${formatBytes(Number(peer.bytes))}  ${amounts(peer)}\n`)
  for (const claim of view.claims) process.stdout.write(`claim ${claim.txHash}  ${claim.amountWei} wei from ${claim.escrows} escrow(s)  ${new Date(claim.at).toISOString()}  ${claimState(claim)}\n`)
}

export function registerPaymentCommands (program: Command, client: () => ApiClient): void {
  program.command('earnings')
    .description('what this node earned as a seeder: pending, confirming (claimed, not yet final) and redeemed, per file and per peer')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => { await showEarnings(client(), options) })

  program.command('claim')
    .description('redeem every receipt this node holds as a seeder, now')
    .action(async () => {
      const { claim } = await client().request<{ claim: { txHash: string, amountWei: string, escrows: number } | null }>('POST', '/api/earnings/claim', {})
      if (claim == null) process.stdout.write('nothing to redeem\n')
      else process.stdout.write(`redeemed ${formatChi(BigInt(claim.amountWei))} CHI from ${claim.escrows} escrow(s) in ${claim.txHash}\n`)
    })

  program.command('refund')
    .description('take back what is left in this node\'s expired escrows')
    .action(async () => {
      const { refunds } = await client().request<{ refunds: Array<{ escrowId: string, txHash: string }> }>('POST', '/api/escrows/refund', {})
      if (refunds.length === 0) process.stdout.write('no expired escrow holds anything\n')
      for (const refund of refunds) process.stdout.write(`refunded escrow ${refund.escrowId} in ${refund.txHash}\n`)
    })
}
