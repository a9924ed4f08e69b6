'use client'

import { useState, type ReactNode } from 'react'
import { Badge, Card, EmptyState, ErrorNotice, Loading, Mono, PageHeader, ProgressBar, TableScroll } from '@/components/ui'
import type { ApiError } from '@/lib/api'
import { formatBytes, formatChi, formatDuration, formatPrice, formatRate, formatTime } from '@/lib/format'
import { useApiMutation, useApiQuery } from '@/lib/queries'
import type { Download, DownloadState, Quote, SourceStats } from '@/lib/types'

const RUNNING: DownloadState[] = ['discovering', 'downloading', 'verifying']

export function DownloadPage (): ReactNode {
  const downloads = useApiQuery<Download[]>('/api/downloads', 5000)
  const running = (downloads.data ?? []).filter(download => RUNNING.includes(download.state))
  const [watching, setWatching] = useState<string | null>(null)
  const watched = downloads.data?.find(download => download.cid === watching)
  const live = watched != null && !RUNNING.includes(watched.state) ? [watched, ...running] : running

  return (
    <>
      <PageHeader title="Download" />
      <NewDownload onStarted={cid => { setWatching(cid) }} />
      {live.map(download => <LiveDownload key={download.cid} download={download} />)}
      <Card title="History">
        {downloads.error != null && <ErrorNotice error={downloads.error} context="Listing downloads" />}
        {downloads.data == null
          ? downloads.error == null && <Loading what="downloads" />
          : downloads.data.length === 0
            ? <EmptyState title="No downloads yet">Paste a content id above to fetch a file from its seeders.</EmptyState>
            : <HistoryTable downloads={downloads.data} />}
      </Card>
    </>
  )
}

/** Content id → seeders and cost → confirm → download. */
function NewDownload ({ onStarted }: { onStarted: (cid: string) => void }): ReactNode {
  const [cid, setCid] = useState('')
  const [output, setOutput] = useState('')
  const quote = useApiMutation<Quote, string>(value => ({ method: 'POST', path: '/api/downloads/quote', body: { cid: value } }))
  const start = useApiMutation<Download, { cid: string, output?: string, maxCostWei?: string }>(body => ({ method: 'POST', path: '/api/downloads', body }), ['/api/downloads', '/api/status'])
  const quoted = quote.data != null && quote.data.cid === cid.trim()
  // Nodes without payments have no quote route: downloads there are free, so offer to go on.
  const noQuotes = quote.error?.routeMissing === true

  // The confirmed quote caps the spend: the node refuses to start if the cost has grown since.
  const begin = (maxCostWei?: string): void => {
    const value = cid.trim()
    start.mutate({ cid: value, output: output.trim() === '' ? undefined : output.trim(), maxCostWei }, {
      onSuccess: () => {
        onStarted(value)
        quote.reset()
      }
    })
  }

  return (
    <Card title="New download">
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          start.reset()
          quote.mutate(cid.trim())
        }}
      >
        <label className="field grow">
          <span>Content id</span>
          <input name="cid" value={cid} onChange={event => { setCid(event.target.value); quote.reset() }} placeholder="bafkrei…" spellCheck={false} required />
        </label>
        <label className="field grow">
          <span>Save to (optional path on the node)</span>
          <input name="output" value={output} onChange={event => { setOutput(event.target.value) }} placeholder="default: <home>/downloads" />
        </label>
        <button type="submit" className="button" disabled={quote.isPending || cid.trim() === ''}>{quote.isPending ? 'Finding seeders…' : 'Find seeders'}</button>
      </form>
      {quote.error != null && !noQuotes && <QuoteError error={quote.error} />}
      {noQuotes && (
        <div className="notice notice-info">
          <p>This node cannot preview seeders and prices yet (payments are not enabled), so only free seeders are used.</p>
          <button type="button" className="button primary" onClick={() => { begin() }} disabled={start.isPending}>Download</button>
        </div>
      )}
      {quoted && <QuoteView quote={quote.data} onConfirm={() => { begin(quote.data.totalCostWei) }} busy={start.isPending} />}
      {start.error != null && <ErrorNotice error={start.error} context="Starting the download" />}
    </Card>
  )
}

function QuoteError ({ error }: { error: ApiError }): ReactNode {
  return <ErrorNotice error={error} context={error.code === 'NO_SEEDERS' ? 'Nobody seeds this file right now' : 'Finding seeders'} />
}

function QuoteView ({ quote, onConfirm, busy }: { quote: Quote, onConfirm: () => void, busy: boolean }): ReactNode {
  const free = BigInt(quote.totalCostWei) === 0n
  return (
    <div className="quote">
      <p><strong>{quote.name}</strong>, {formatBytes(quote.size)}, from {quote.seeders.length} seeder{quote.seeders.length === 1 ? '' : 's'}.</p>
      <TableScroll label="Seeders found">
        <table>
          <thead><tr><th scope="col">Seeder</th><th scope="col">Price</th><th scope="col">Wallet</th><th scope="col">Transports</th></tr></thead>
          <tbody>
            {quote.seeders.map(seeder => (
              <tr key={seeder.peerId}>
                <td><Mono value={seeder.peerId} /></td>
                <td>{formatPrice(seeder.pricePerMiB)}</td>
                <td>{seeder.wallet === '' ? <span className="muted">none</span> : <Mono value={seeder.wallet} keep={6} />}</td>
                <td>{seeder.transports.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <p>Cost: <strong>{free ? 'free' : formatChi(quote.totalCostWei)}</strong>{free ? '' : ', held in escrow and paid to seeders as chunks arrive.'}</p>
      <button type="button" className="button primary" onClick={onConfirm} disabled={busy}>
        {free ? 'Download' : `Confirm and pay up to ${formatChi(quote.totalCostWei)}`}
      </button>
    </div>
  )
}

function LiveDownload ({ download }: { download: Download }): ReactNode {
  const cancel = useApiMutation<Download>(() => ({ method: 'DELETE', path: `/api/downloads/${download.cid}` }), ['/api/downloads'])
  const running = RUNNING.includes(download.state)
  const size = download.size ?? 0
  return (
    <Card title={download.name ?? 'Download'} className="live-download" actions={<StateBadge state={download.state} />}>
      <p className="muted wrap"><Mono value={download.cid} keep={12} /></p>
      <ProgressBar value={download.bytesDone} max={size} label={`Progress of ${download.name ?? download.cid}`} />
      <p className="download-numbers" data-state={download.state}>
        {formatBytes(download.bytesDone)} of {size === 0 ? '?' : formatBytes(size)}
        {running && <> · {formatRate(download.speed ?? 0)} · ETA {formatDuration(download.etaSeconds)} · {download.seeders ?? 0} seeder(s)</>}
        {download.state === 'completed' && download.outputPath != null && <> · saved to <code>{download.outputPath}</code>, now seeding it</>}
      </p>
      {download.error != null && <p className="notice notice-error" role="alert">{download.error.message} ({download.error.code})</p>}
      {(download.sources ?? []).length > 0 && <SourceTables sources={download.sources ?? []} />}
      {running && <button type="button" className="button danger" onClick={() => { cancel.mutate() }} disabled={cancel.isPending}>Cancel</button>}
      {cancel.error != null && <ErrorNotice error={cancel.error} context="Cancelling" />}
    </Card>
  )
}

function SourceTables ({ sources }: { sources: SourceStats[] }): ReactNode {
  const bySeeder = group(sources, source => source.peerId)
  const byTransport = group(sources, source => source.transport)
  return (
    <div className="grid-2">
      <TableScroll label="Per seeder">
        <table>
          <caption className="muted">Per seeder</caption>
          <thead><tr><th scope="col">Seeder</th><th scope="col">Transports</th><th scope="col" className="num">Received</th></tr></thead>
          <tbody>
            {bySeeder.map(([peerId, list]) => (
              <tr key={peerId}>
                <td><Mono value={peerId} /></td>
                <td>{list.map(source => source.dropped == null ? source.transport : `${source.transport} (dropped)`).join(', ')}</td>
                <td className="num">{formatBytes(sum(list))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <TableScroll label="Per transport">
        <table>
          <caption className="muted">Per transport</caption>
          <thead><tr><th scope="col">Transport</th><th scope="col" className="num">Chunks</th><th scope="col" className="num">Received</th></tr></thead>
          <tbody>
            {byTransport.map(([transport, list]) => (
              <tr key={transport}>
                <td>{transport}</td>
                <td className="num">{list.reduce((total, source) => total + source.chunks, 0)}</td>
                <td className="num">{formatBytes(sum(list))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </div>
  )
}

function HistoryTable ({ downloads }: { downloads: Download[] }): ReactNode {
  const sorted = [...downloads].sort((a, b) => b.startedAt - a.startedAt)
  return (
    <TableScroll label="Download history">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th><th scope="col">Content id</th><th scope="col" className="num">Size</th>
            <th scope="col">State</th><th scope="col">Started</th><th scope="col">Saved to</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map(download => (
            <tr key={download.cid}>
              <td className="wrap">{download.name ?? '—'}</td>
              <td><Mono value={download.cid} /></td>
              <td className="num">{download.size == null ? '—' : formatBytes(download.size)}</td>
              <td><StateBadge state={download.state} />{download.error != null && <div className="muted">{download.error.message}</div>}</td>
              <td>{formatTime(download.startedAt)}</td>
              <td className="wrap">{download.outputPath ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  )
}

function StateBadge ({ state }: { state: DownloadState }): ReactNode {
  const tone = state === 'completed' ? 'good' : state === 'failed' ? 'bad' : state === 'cancelled' ? 'neutral' : 'warn'
  return <Badge tone={tone}>{state}</Badge>
}

function group<T> (items: T[], key: (item: T) => string): Array<[string, T[]]> {
  const groups = new Map<string, T[]>()
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item])
  return [...groups]
}

function sum (sources: SourceStats[]): number {
  return sources.reduce((total, source) => total + source.bytes, 0)
}
