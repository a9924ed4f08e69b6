'use client'

import type { ReactNode } from 'react'
import { LineChart } from '@/components/line-chart'
import { Card, EmptyState, ErrorNotice, Loading, Mono, PageHeader, Stat, TableScroll } from '@/components/ui'
import { formatBytes, formatChi, formatTime } from '@/lib/format'
import { useApiMutation, useApiQuery } from '@/lib/queries'
import type { Earnings } from '@/lib/types'

const WEI_PER_CHI = 1e18

export function EarningsPage (): ReactNode {
  const earnings = useApiQuery<Earnings>('/api/earnings', 5000)
  return (
    <>
      <PageHeader title="Earnings" />
      {earnings.error?.routeMissing === true
        ? (
          <Card>
            <EmptyState title="Payments are not available on this node yet">
              Seeding works and is free for now. Once this node runs with payments, what downloaders
              owe you for the chunks you served shows up here, and you can claim it on the Chiral chain.
            </EmptyState>
          </Card>
          )
        : earnings.error != null
          ? <ErrorNotice error={earnings.error} context="Earnings" />
          : earnings.data == null
            ? <Loading what="earnings" />
            : <EarningsView earnings={earnings.data} />}
    </>
  )
}

function EarningsView ({ earnings }: { earnings: Earnings }): ReactNode {
  const claim = useApiMutation<{ txHashes: string[] }>(() => ({ method: 'POST', path: '/api/earnings/claim' }), ['/api/earnings', '/api/wallet'])
  const pending = BigInt(earnings.pendingWei)
  return (
    <>
      <section className="stats" aria-label="Totals">
        <Stat label="Pending" value={formatChi(earnings.pendingWei)} detail="owed for chunks served, not yet claimed" />
        <Stat label="Confirming" value={formatChi(earnings.confirmingWei)} detail="claimed, waiting for enough blocks on top" />
        <Stat label="Redeemed" value={formatChi(earnings.redeemedWei)} detail="claimed on chain, final" />
      </section>
      <Card
        title="Claim"
        actions={
          <button type="button" className="button primary" disabled={pending === 0n || claim.isPending} onClick={() => { claim.mutate() }}>
            {claim.isPending ? 'Claiming…' : `Claim ${formatChi(pending)}`}
          </button>
        }
      >
        {pending === 0n && <p className="muted">Nothing to claim right now.</p>}
        {claim.error != null && <ErrorNotice error={claim.error} context="Claiming" />}
        {claim.data != null && (
          <div className="notice notice-good" role="status">
            Claim sent in {claim.data.txHashes.length} transaction(s):
            <ul className="plain">{claim.data.txHashes.map(hash => <li key={hash}><code className="wrap">{hash}</code></li>)}</ul>
          </div>
        )}
      </Card>
      <Card title="Redeemed over time">
        <LineChart
          title="Redeemed CHI over time"
          series={[{ label: 'Redeemed', values: cumulative(earnings.claims), color: 'var(--chart-1)' }]}
          format={value => `${value.toFixed(4)} CHI`}
          empty="The chart starts after the first claim."
        />
      </Card>
      <div className="grid-2">
        <BreakdownCard
          title="Per file"
          empty="No paid transfers yet"
          column="File"
          rows={earnings.files.map(file => ({ key: file.cid, label: <span title={file.cid}>{file.name}</span>, ...file }))}
        />
        <BreakdownCard
          title="Per peer"
          empty="No paying peers yet"
          column="Peer"
          rows={earnings.peers.map(peer => ({ key: peer.peerId, label: <Mono value={peer.peerId} />, ...peer }))}
        />
      </div>
      <Card title="Claims">
        {earnings.claims.length === 0
          ? <EmptyState title="No claims yet" />
          : (
            <TableScroll label="Claim transactions">
              <table>
                <thead><tr><th scope="col">When</th><th scope="col">Transaction</th><th scope="col" className="num">Amount</th><th scope="col" className="num">Escrows</th><th scope="col">Status</th></tr></thead>
                <tbody>
                  {[...earnings.claims].sort((a, b) => b.at - a.at).map(claim => (
                    <tr key={claim.txHash}>
                      <td>{formatTime(claim.at)}</td>
                      <td><Mono value={claim.txHash} keep={10} /></td>
                      <td className="num">{formatChi(claim.amountWei)}</td>
                      <td className="num">{claim.escrows}</td>
                      <td>{claimStatus(claim)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
            )}
      </Card>
    </>
  )
}

/** Running total of redeemed CHI, oldest claim first, without claims a reorganisation dropped (floats are fine for a chart). */
function cumulative (claims: Earnings['claims']): number[] {
  let total = 0
  return [0, ...[...claims].filter(claim => claim.status !== 'dropped').sort((a, b) => a.at - b.at).map(claim => (total += Number(claim.amountWei) / WEI_PER_CHI))]
}

function claimStatus (claim: Earnings['claims'][number]): string {
  const reorg = claim.droppedAt != null ? ' (was dropped by a reorganisation)' : ''
  if (claim.status === 'dropped') return 'dropped by a reorganisation, claimable again'
  if (claim.status === 'confirming') return `confirming${claim.confirmations == null ? '' : `, ${claim.confirmations} block${claim.confirmations === 1 ? '' : 's'} deep`}${reorg}`
  return `final${reorg}`
}

interface BreakdownRow { key: string, label: ReactNode, bytes: string, pendingWei: string, confirmingWei: string, redeemedWei: string }

/** Served bytes, pending, confirming and redeemed CHI, one row per file or per peer. */
function BreakdownCard ({ title, empty, column, rows }: { title: string, empty: string, column: string, rows: BreakdownRow[] }): ReactNode {
  return (
    <Card title={title}>
      {rows.length === 0
        ? <EmptyState title={empty} />
        : (
          <TableScroll label={`Earnings ${title.toLowerCase()}`}>
            <table>
              <thead><tr><th scope="col">{column}</th><th scope="col" className="num">Served</th><th scope="col" className="num">Pending</th><th scope="col" className="num">Confirming</th><th scope="col" className="num">Redeemed</th></tr></thead>
              <tbody>
                {rows.map(row => (
                  <tr key={row.key}>
                    <td className="wrap">{row.label}</td>
                    <td className="num">{formatBytes(Number(row.bytes))}</td>
                    <td className="num">{formatChi(row.pendingWei)}</td>
                    <td className="num">{formatChi(row.confirmingWei)}</td>
                    <td className="num">{formatChi(row.redeemedWei)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          )}
    </Card>
  )
}
