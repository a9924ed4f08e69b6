'use client'

import { useState, type ReactNode } from 'react'
import { Badge, Card, EmptyState, ErrorNotice, Loading, Mono, PageHeader, Stat, TableScroll } from '@/components/ui'
import { formatBytes } from '@/lib/format'
import { useApiMutation, useApiQuery } from '@/lib/queries'
import type { NetworkView, Peer, Reach } from '@/lib/types'

const REACH: Record<Reach, { label: string, tone: 'good' | 'warn' | 'bad', explain: string }> = {
  public: { label: 'public', tone: 'good', explain: 'The node announces a public address: peers on the internet can dial it unless a firewall blocks the ports.' },
  'local-network': { label: 'local network', tone: 'warn', explain: 'Only private addresses are announced: peers on the same network can dial this node; others need it to announce a public address (--announce).' },
  'this-machine': { label: 'this machine only', tone: 'bad', explain: 'The node listens on loopback only: just other nodes on this computer can reach it.' }
}

export function NetworkPage (): ReactNode {
  const network = useApiQuery<NetworkView>('/api/network', 5000)
  const peers = useApiQuery<Peer[]>('/api/peers', 3000)
  return (
    <>
      <PageHeader title="Network" />
      {network.error != null && <ErrorNotice error={network.error} context="Network state" />}
      {network.data == null ? network.error == null && <Loading what="network state" /> : <NetworkSummary network={network.data} />}
      <ConnectPeer />
      <Card title="Peers">
        {peers.error != null && <ErrorNotice error={peers.error} context="Peers" />}
        {peers.data == null
          ? peers.error == null && <Loading what="peers" />
          : peers.data.length === 0
            ? <EmptyState title="No peers">Connect to another node above, or start the daemon with --bootstrap.</EmptyState>
            : <PeersTable peers={peers.data} />}
      </Card>
    </>
  )
}

function NetworkSummary ({ network }: { network: NetworkView }): ReactNode {
  const reach = REACH[network.reachability]
  return (
    <>
      <section className="stats" aria-label="Network">
        <Stat label="Reachability" value={<Badge tone={reach.tone}>{reach.label}</Badge>} />
        <Stat label="Connections" value={network.connections} />
        <Stat label="DHT routing table" value={`${network.dht.routingTablePeers} peer(s)`} detail={`${network.dht.mode} mode`} />
      </section>
      <Card title="Addresses">
        <p>{reach.explain}</p>
        <p className="muted">Peer id <Mono value={network.peerId} keep={12} /></p>
        <TableScroll label="Announced addresses">
          <table>
            <thead><tr><th scope="col">Announced address</th><th scope="col">Reach</th></tr></thead>
            <tbody>
              {network.addresses.map(entry => (
                <tr key={entry.address}><td className="wrap"><code>{entry.address}</code></td><td>{REACH[entry.scope].label}</td></tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
        <p className="muted">Listening on {network.listen.map(address => <code key={address}>{address} </code>)}; HTTP transfers on {network.http.map(url => <code key={url}>{url} </code>)}</p>
      </Card>
    </>
  )
}

function ConnectPeer (): ReactNode {
  const [address, setAddress] = useState('')
  const connect = useApiMutation<{ peerId: string }, string>(value => ({ method: 'POST', path: '/api/peers', body: { address: value } }), ['/api/peers', '/api/network', '/api/status'])
  return (
    <Card title="Connect to a peer">
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          connect.mutate(address.trim())
        }}
      >
        <label className="field grow">
          <span>Multiaddr with /p2p/&lt;peer id&gt;</span>
          <input value={address} onChange={event => { setAddress(event.target.value) }} placeholder="/ip4/10.0.0.5/tcp/30480/p2p/12D3KooW…" spellCheck={false} required />
        </label>
        <button type="submit" className="button primary" disabled={connect.isPending}>{connect.isPending ? 'Connecting…' : 'Connect'}</button>
      </form>
      {connect.error != null && <ErrorNotice error={connect.error} context="Connecting" />}
      {connect.data != null && <p className="notice notice-good" role="status">Connected to <Mono value={connect.data.peerId} /></p>}
    </Card>
  )
}

function PeersTable ({ peers }: { peers: Peer[] }): ReactNode {
  const sorted = [...peers].sort((a, b) => Number(b.connected) - Number(a.connected))
  return (
    <TableScroll label="Known peers">
      <table>
        <thead>
          <tr>
            <th scope="col">Peer</th><th scope="col">State</th><th scope="col">Address</th>
            <th scope="col" className="num">Downloaded</th><th scope="col" className="num">Uploaded</th><th scope="col" className="num">Bad chunks</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map(peer => (
            <tr key={peer.peerId}>
              <td><Mono value={peer.peerId} /></td>
              <td><Badge tone={peer.connected ? 'good' : 'neutral'}>{peer.connected ? 'connected' : 'offline'}</Badge></td>
              <td className="wrap">{peer.addresses.map(address => <div key={address}><code>{address}</code></div>)}</td>
              <td className="num">{formatBytes(peer.bytesDownloaded)}</td>
              <td className="num">{formatBytes(peer.bytesUploaded)}</td>
              <td className="num">{peer.corruptChunks}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  )
}
