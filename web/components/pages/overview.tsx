'use client'

import Link from 'next/link'
import type { ReactNode } from 'react'
import { LineChart } from '@/components/line-chart'
import { Badge, Card, ErrorNotice, Loading, PageHeader, Stat } from '@/components/ui'
import { formatBytes, formatHashrate, formatRate } from '@/lib/format'
import { useApiQuery } from '@/lib/queries'
import { useRates, withHistory } from '@/lib/samples'
import type { History, Status, Wallet } from '@/lib/types'

export function OverviewPage (): ReactNode {
  const status = useApiQuery<Status>('/api/status', 2000)
  const wallet = useApiQuery<Wallet>('/api/wallet', 5000)
  const history = useApiQuery<History>('/api/history')
  const uploadRates = withHistory(history.data?.samples.map(sample => sample.upload), useRates(status.data?.totals.uploaded, status.dataUpdatedAt), history.data?.capacity)
  const downloadRates = withHistory(history.data?.samples.map(sample => sample.download), useRates(status.data?.totals.downloaded, status.dataUpdatedAt), history.data?.capacity)

  return (
    <>
      <PageHeader title="Overview" />
      {status.error != null && <ErrorNotice error={status.error} context="Node status" />}
      {status.data == null
        ? status.error == null && <Loading what="node status" />
        : <OverviewStats status={status.data} wallet={wallet.data} />}
      <Card title="Bandwidth">
        <LineChart
          title="Bandwidth"
          series={[
            { label: 'Upload', values: uploadRates, color: 'var(--chart-1)' },
            { label: 'Download', values: downloadRates, color: 'var(--chart-2)' }
          ]}
          format={formatRate}
          empty="Collecting samples: the node records one every few seconds."
        />
        {status.data != null && (
          <p className="muted">
            Total uploaded {formatBytes(status.data.totals.uploaded)}, downloaded {formatBytes(status.data.totals.downloaded)}.
          </p>
        )}
      </Card>
    </>
  )
}

function OverviewStats ({ status, wallet }: { status: Status, wallet: Wallet | undefined }): ReactNode {
  return (
    <section className="stats" aria-label="Node at a glance">
      <Stat label="Peers" value={status.connectedPeers} detail={status.connectedPeers === 0 ? <Link href="/network/">connect to a peer</Link> : 'connected'} />
      <Stat
        label="Chain height"
        value={`#${status.chain.head.number}`}
        detail={status.chain.syncing ? <Badge tone="warn">syncing</Badge> : <Badge tone="good">in sync</Badge>}
      />
      <Stat label="Hashrate" value={formatHashrate(status.chain.hashrate)} detail={status.chain.mining ? 'mining' : 'not mining'} />
      <Stat
        label="Balance"
        value={wallet == null ? '…' : wallet.address == null ? 'no wallet' : `${wallet.balanceChi} CHI`}
        detail={wallet?.address == null ? <Link href="/wallet/">create a wallet</Link> : wallet.unlocked ? 'unlocked' : 'locked'}
      />
      <Stat label="Files seeded" value={status.seeding} detail={<Link href="/files/">manage files</Link>} />
      <Stat label="Downloads running" value={status.activeDownloads} detail={<Link href="/download/">download a file</Link>} />
    </section>
  )
}
