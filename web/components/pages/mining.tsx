'use client'

import { useState, type ReactNode } from 'react'
import { LineChart } from '@/components/line-chart'
import { Badge, Card, ErrorNotice, Loading, Mono, PageHeader, Stat } from '@/components/ui'
import { formatChi, formatHashrate } from '@/lib/format'
import { useApiMutation, useApiQuery } from '@/lib/queries'
import { useSamples, withHistory } from '@/lib/samples'
import type { ChainInfo, History, Mining } from '@/lib/types'

export function MiningPage (): ReactNode {
  const mining = useApiQuery<Mining>('/api/mining', 2000)
  const chain = useApiQuery<ChainInfo>('/api/chain', 5000)
  const history = useApiQuery<History>('/api/history')
  const hashrates = withHistory(history.data?.samples.map(sample => sample.hashrate), useSamples(mining.data?.hashrate, mining.dataUpdatedAt), history.data?.capacity)
  return (
    <>
      <PageHeader title="Mining" />
      {mining.error != null && <ErrorNotice error={mining.error} context="Miner" />}
      {mining.data == null
        ? mining.error == null && <Loading what="miner state" />
        : (
          <>
            <section className="stats" aria-label="Miner">
              <Stat label="State" value={mining.data.mining ? <Badge tone="good">mining</Badge> : <Badge tone="neutral">stopped</Badge>} detail={`${mining.data.threads} thread(s)`} />
              <Stat label="Hashrate" value={formatHashrate(mining.data.hashrate)} />
              <Stat label="Blocks found" value={mining.data.blocksMined} detail="since the node started" />
              <Stat
                label="Rewards"
                value={chain.data == null ? '…' : formatChi(BigInt(chain.data.blockRewardWei) * BigInt(mining.data.blocksMined))}
                detail={chain.data == null ? undefined : `${formatChi(chain.data.blockRewardWei)} per block`}
              />
            </section>
            <MinerControls mining={mining.data} />
          </>
          )}
      <Card title="Hashrate">
        <LineChart
          title="Hashrate"
          series={[{ label: 'Hashrate', values: hashrates, color: 'var(--chart-1)' }]}
          format={value => formatHashrate(Math.round(value))}
          empty="Collecting samples: the node records one every few seconds."
        />
      </Card>
      {chain.data != null && (
        <Card title="Chain">
          <p>Block <strong>#{chain.data.head.number}</strong>, difficulty {chain.data.head.difficulty}, {chain.data.pendingTransactions} pending transaction(s). Network {chain.data.network}, chain id {chain.data.chainId}.</p>
        </Card>
      )}
    </>
  )
}

function MinerControls ({ mining }: { mining: Mining }): ReactNode {
  const [threads, setThreads] = useState(String(Math.max(1, mining.threads)))
  const start = useApiMutation<Mining, number>(count => ({ method: 'POST', path: '/api/mining/start', body: { threads: count } }), ['/api/mining', '/api/status'])
  const stop = useApiMutation<Mining>(() => ({ method: 'POST', path: '/api/mining/stop' }), ['/api/mining', '/api/status'])
  return (
    <Card title="Miner">
      <p className="muted">Rewards go to <Mono value={mining.coinbase} keep={6} />.</p>
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          start.mutate(Number(threads))
        }}
      >
        <label className="field">
          <span>Threads</span>
          <input type="number" min={1} max={256} value={threads} onChange={event => { setThreads(event.target.value) }} required />
        </label>
        <button type="submit" className="button primary" disabled={start.isPending}>{mining.mining ? 'Apply threads' : 'Start mining'}</button>
        <button type="button" className="button" disabled={!mining.mining || stop.isPending} onClick={() => { stop.mutate() }}>Stop mining</button>
      </form>
      {start.error != null && <ErrorNotice error={start.error} context="Starting the miner" />}
      {stop.error != null && <ErrorNotice error={stop.error} context="Stopping the miner" />}
    </Card>
  )
}
