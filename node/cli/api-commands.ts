/**
 * `chiral ls`, `status` and `peers`: each prints what one or two requests to the daemon answer,
 * with nothing but the API client and formatting (`earnings` is in payment-commands.ts). program.ts
 * runs them as commands; quick.ts runs them without the argument parser.
 */
import type { DownloadProgress } from '../transfer/downloads.js'
import { formatBytes } from '../util/units.js'
import type { ApiClient } from './client.js'

export interface JsonOption { json?: boolean }

export async function listFiles (api: ApiClient, options: JsonOption): Promise<void> {
  const files = await api.request<Array<{ cid: string, name: string, size: number, state: string, pricePerMiB: string, bytesServed: number }>>('GET', '/api/files')
  const downloads = await api.request<DownloadProgress[]>('GET', '/api/downloads')
  if (options.json === true) {
    process.stdout.write(JSON.stringify({ files, downloads }, null, 2) + '\n')
    return
  }
  if (files.length === 0 && downloads.length === 0) process.stdout.write('nothing seeded or downloaded yet: chiral add <file>\n')
  for (const file of files) {
    process.stdout.write(`${file.cid}  ${file.state.padEnd(8)} ${formatBytes(file.size).padStart(10)}  served ${formatBytes(file.bytesServed).padStart(10)}  ${file.pricePerMiB === '0' ? 'free' : `${file.pricePerMiB} wei/MiB`}  ${file.name}\n`)
  }
  for (const download of downloads.filter(d => d.state !== 'completed')) {
    process.stdout.write(`${download.cid}  ${download.state.padEnd(8)} ${formatBytes(download.bytesDone)} / ${formatBytes(download.size ?? 0)}  ${download.error?.message ?? ''}\n`)
  }
}

export async function showStatus (api: ApiClient, options: JsonOption): Promise<void> {
  const status = await api.request<Record<string, unknown> & { peerId: string, addresses: string[], urls: { api: string, dashboard: string, http: string[] }, connectedPeers: number, seeding: number, activeDownloads: number, limits: { maxUploadRate: number, maxDownloadRate: number } }>('GET', '/api/status')
  if (options.json === true) {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n')
    return
  }
  const limit = (value: number): string => value === 0 ? 'unlimited' : `${formatBytes(value)}/s`
  process.stdout.write([
    `peer id      ${status.peerId}`,
    `api          ${status.urls.api}`,
    `dashboard    ${status.urls.dashboard}#token=${api.token}`,
    `http         ${status.urls.http.join(' ')}`,
    ...status.addresses.map(address => `address      ${address}`),
    `peers        ${status.connectedPeers}`,
    `seeding      ${status.seeding} file(s)`,
    `downloading  ${status.activeDownloads}`,
    `limits       up ${limit(status.limits.maxUploadRate)}, down ${limit(status.limits.maxDownloadRate)}`,
    ''
  ].join('\n'))
}

export async function showPeers (api: ApiClient, options: JsonOption): Promise<void> {
  const peers = await api.request<Array<{ peerId: string, connected: boolean, addresses: string[], bytesDownloaded: number, bytesUploaded: number }>>('GET', '/api/peers')
  if (options.json === true) {
    process.stdout.write(JSON.stringify(peers, null, 2) + '\n')
    return
  }
  if (peers.length === 0) process.stdout.write('no peers: give the daemon --bootstrap <multiaddr>\n')
  for (const peer of peers) {
    process.stdout.write(`${peer.peerId}  ${peer.connected ? 'connected' : 'offline  '}  down ${formatBytes(peer.bytesDownloaded)}  up ${formatBytes(peer.bytesUploaded)}  ${peer.addresses.join(' ')}\n`)
  }
}
