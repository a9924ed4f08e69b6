'use client'

import { useQueryClient } from '@tanstack/react-query'
import { useState, type ReactNode } from 'react'
import { CopyButton } from '@/components/copy-button'
import { Badge, Card, EmptyState, ErrorNotice, Loading, Mono, PageHeader, ProgressBar, TableScroll } from '@/components/ui'
import { uploadFile } from '@/lib/api'
import { useLiveEvents } from '@/lib/events'
import { formatBytes, formatChi, formatPrice } from '@/lib/format'
import { useApiMutation, useApiQuery } from '@/lib/queries'
import { useToken } from '@/lib/session'
import type { Earnings, SeedFile } from '@/lib/types'

export function FilesPage (): ReactNode {
  const files = useApiQuery<SeedFile[]>('/api/files', 5000)
  const earnings = useApiQuery<Earnings>('/api/earnings', 10_000)
  const earnedByCid = new Map((earnings.data?.files ?? []).map(file => [file.cid, BigInt(file.pendingWei) + BigInt(file.confirmingWei) + BigInt(file.redeemedWei)]))

  return (
    <>
      <PageHeader title="Files" />
      <div className="grid-2">
        <AddByPath />
        <AddByUpload />
      </div>
      <Card title="Seeded files">
        {files.error != null && <ErrorNotice error={files.error} context="Listing files" />}
        {files.data == null
          ? files.error == null && <Loading what="files" />
          : files.data.length === 0
            ? <EmptyState title="No files yet">Add a file above: it is seeded at once, from where it lies, under its content id.</EmptyState>
            : <FilesTable files={files.data} earnedByCid={earnings.data == null ? undefined : earnedByCid} />}
      </Card>
    </>
  )
}

function AddByPath (): ReactNode {
  const [path, setPath] = useState('')
  const [price, setPrice] = useState('0')
  const { adding } = useLiveEvents()
  const add = useApiMutation<SeedFile, { path: string, pricePerMiB: string }>(body => ({ method: 'POST', path: '/api/files', body }), ['/api/files', '/api/status'])
  const progress = add.isPending ? adding[path] : undefined
  return (
    <Card title="Add a file on this node">
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          add.mutate({ path: path.trim(), pricePerMiB: price.trim() })
        }}
      >
        <label className="field grow">
          <span>Path of the file on the node</span>
          <input name="path" value={path} onChange={event => { setPath(event.target.value) }} placeholder="/home/me/film.mkv" required />
        </label>
        <PriceField value={price} onChange={setPrice} />
        <button type="submit" className="button primary" disabled={add.isPending}>{add.isPending ? 'Hashing…' : 'Add'}</button>
      </form>
      {progress != null && <ProgressBar value={progress.bytes} max={progress.total} label={`Hashing ${path}`} />}
      {add.error != null && <ErrorNotice error={add.error} context="Adding the file" />}
      {add.data != null && <p className="notice notice-good wrap" role="status">Seeding {add.data.name}: <code>{add.data.cid}</code></p>}
    </Card>
  )
}

function AddByUpload (): ReactNode {
  const token = useToken()
  const queryClient = useQueryClient()
  const [file, setFile] = useState<File | null>(null)
  const [price, setPrice] = useState('0')
  const [state, setState] = useState<{ kind: 'idle' } | { kind: 'uploading' } | { kind: 'done', entry: SeedFile } | { kind: 'failed', error: unknown }>({ kind: 'idle' })
  return (
    <Card title="Upload a file from this computer">
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          if (file == null) return
          setState({ kind: 'uploading' })
          uploadFile<SeedFile>(token, file, price.trim()).then(async entry => {
            setState({ kind: 'done', entry })
            await queryClient.invalidateQueries({ queryKey: ['/api/files'] })
          }, (error: unknown) => { setState({ kind: 'failed', error }) })
        }}
      >
        <label className="field grow">
          <span>File (kept in the node&apos;s uploads folder)</span>
          <input type="file" name="upload" onChange={event => { setFile(event.target.files?.[0] ?? null) }} required />
        </label>
        <PriceField value={price} onChange={setPrice} />
        <button type="submit" className="button primary" disabled={file == null || state.kind === 'uploading'}>
          {state.kind === 'uploading' ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      {state.kind === 'failed' && <ErrorNotice error={state.error} context="Uploading" />}
      {state.kind === 'done' && <p className="notice notice-good wrap" role="status">Seeding {state.entry.name}: <code>{state.entry.cid}</code></p>}
    </Card>
  )
}

function PriceField ({ value, onChange }: { value: string, onChange: (value: string) => void }): ReactNode {
  return (
    <label className="field">
      <span>Price (wei per MiB, 0 = free)</span>
      <input inputMode="numeric" pattern="[0-9]{1,78}" value={value} onChange={event => { onChange(event.target.value) }} required />
    </label>
  )
}

function FilesTable ({ files, earnedByCid }: { files: SeedFile[], earnedByCid: Map<string, bigint> | undefined }): ReactNode {
  return (
    <TableScroll label="Seeded files">
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Content id</th>
            <th scope="col" className="num">Size</th>
            <th scope="col">Price</th>
            <th scope="col">State</th>
            <th scope="col" className="num">Served</th>
            <th scope="col" className="num">Earned</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {files.map(file => <FileRow key={file.cid} file={file} earned={earnedByCid?.get(file.cid)} earningsKnown={earnedByCid != null} />)}
        </tbody>
      </table>
    </TableScroll>
  )
}

function FileRow ({ file, earned, earningsKnown }: { file: SeedFile, earned: bigint | undefined, earningsKnown: boolean }): ReactNode {
  const toggle = useApiMutation<SeedFile>(() => ({ method: 'POST', path: `/api/files/${file.cid}/${file.state === 'seeding' ? 'stop' : 'resume'}` }), ['/api/files', '/api/status'])
  const links = [...file.links.http, ...(file.links.magnet ?? []), ...(file.links.ed2k ?? [])]
  return (
    <tr data-cid={file.cid}>
      <td className="wrap" title={file.path}>{file.name}</td>
      <td><Mono value={file.cid} /></td>
      <td className="num">{formatBytes(file.size)}</td>
      <td>{formatPrice(file.pricePerMiB)}</td>
      <td>
        <Badge tone={file.state === 'seeding' ? 'good' : file.state === 'changed' ? 'bad' : 'neutral'}>{file.state}</Badge>
        {toggle.error != null && <ErrorNotice error={toggle.error} />}
      </td>
      <td className="num">{formatBytes(file.bytesServed)}</td>
      <td className="num">{earningsKnown ? formatChi(earned ?? 0n) : <span className="muted" title="payments are not enabled on this node yet">—</span>}</td>
      <td>
        <div className="actions">
          <CopyButton value={file.cid} label="Copy id" />
          {links.map(link => <CopyButton key={link} value={link} label={linkLabel(link)} />)}
          {file.state !== 'changed' && (
            <button type="button" className="button small" disabled={toggle.isPending} onClick={() => { toggle.mutate() }}>
              {file.state === 'seeding' ? 'Stop' : 'Resume'}
            </button>
          )}
        </div>
      </td>
    </tr>
  )
}

function linkLabel (link: string): string {
  if (link.startsWith('magnet:')) return 'Copy magnet'
  if (link.startsWith('ed2k:')) return 'Copy ed2k'
  return 'Copy HTTP link'
}
