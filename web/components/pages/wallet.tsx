'use client'

import dynamic from 'next/dynamic'
import { useState, type ReactNode } from 'react'
import { Badge, Card, EmptyState, ErrorNotice, Loading, Mono, PageHeader, Stat, TableScroll } from '@/components/ui'
import { CopyButton } from '@/components/copy-button'
import { formatChi, formatTime } from '@/lib/format'
import { useApiMutation, useApiQuery } from '@/lib/queries'
import { useToken } from '@/lib/session'
import type { ChainInfo, Status, Transfer, Wallet } from '@/lib/types'

const BrowserWallet = dynamic(async () => await import('@/components/browser-wallet'), {
  ssr: false,
  loading: () => <Loading what="browser wallet support" />
})

export function WalletPage (): ReactNode {
  const wallet = useApiQuery<Wallet>('/api/wallet', 5000)
  return (
    <>
      <PageHeader title="Wallet" />
      {wallet.error != null && <ErrorNotice error={wallet.error} context="Node wallet" />}
      {wallet.data == null
        ? wallet.error == null && <Loading what="the node wallet" />
        : wallet.data.address == null ? <CreateWallet /> : <NodeWallet wallet={wallet.data} address={wallet.data.address} />}
      <BrowserWalletCard />
    </>
  )
}

function NodeWallet ({ wallet, address }: { wallet: Wallet, address: string }): ReactNode {
  return (
    <>
      <section className="stats" aria-label="Node wallet">
        <Stat label="Balance" value={formatChi(wallet.balance)} />
        <Stat label="Address" value={<Mono value={address} keep={6} />} detail={<CopyButton value={address} label="Copy address" />} />
        <Stat label="State" value={wallet.unlocked ? <Badge tone="good">unlocked</Badge> : <Badge tone="warn">locked</Badge>} />
      </section>
      {wallet.unlocked ? <SendForm /> : <UnlockForm />}
      <History />
    </>
  )
}

function SendForm (): ReactNode {
  const [to, setTo] = useState('')
  const [amount, setAmount] = useState('')
  const send = useApiMutation<{ hash: string }, { to: string, amount: string }>(body => ({ method: 'POST', path: '/api/wallet/send', body }), ['/api/wallet', '/api/wallet/history'])
  return (
    <Card title="Send CHI">
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          send.mutate({ to: to.trim(), amount: amount.trim() })
        }}
      >
        <label className="field grow">
          <span>To address</span>
          <input value={to} onChange={event => { setTo(event.target.value) }} pattern="0x[0-9a-fA-F]{40}" placeholder="0x…" spellCheck={false} required />
        </label>
        <label className="field">
          <span>Amount (CHI)</span>
          <input value={amount} onChange={event => { setAmount(event.target.value) }} inputMode="decimal" pattern="[0-9]+(\.[0-9]+)?" placeholder="1.5" required />
        </label>
        <button type="submit" className="button primary" disabled={send.isPending}>{send.isPending ? 'Sending…' : 'Send'}</button>
      </form>
      {send.error != null && <ErrorNotice error={send.error} context="Sending" />}
      {send.data != null && <p className="notice notice-good wrap" role="status">Sent: transaction <code>{send.data.hash}</code> (it appears below once mined).</p>}
    </Card>
  )
}

function UnlockForm (): ReactNode {
  const [password, setPassword] = useState('')
  const unlock = useApiMutation<Wallet, string>(value => ({ method: 'POST', path: '/api/wallet/unlock', body: { password: value } }), ['/api/wallet'])
  return (
    <Card title="Unlock the wallet">
      <form className="form-row" onSubmit={event => { event.preventDefault(); unlock.mutate(password) }}>
        <label className="field grow">
          <span>Wallet password</span>
          <input type="password" autoComplete="current-password" value={password} onChange={event => { setPassword(event.target.value) }} required />
        </label>
        <button type="submit" className="button primary" disabled={unlock.isPending}>Unlock</button>
      </form>
      {unlock.error != null && <ErrorNotice error={unlock.error} context="Unlocking" />}
    </Card>
  )
}

function CreateWallet (): ReactNode {
  const [password, setPassword] = useState('')
  const [mnemonic, setMnemonic] = useState('')
  const create = useApiMutation<{ address: string, mnemonic?: string }, { password: string, mnemonic?: string }>(body => ({ method: 'POST', path: '/api/wallet', body }), ['/api/wallet', '/api/status'])
  if (create.data?.mnemonic != null) {
    return (
      <Card title="Write down your recovery phrase">
        <p className="notice notice-warn">It is shown once. Anyone with it controls the wallet; without it a lost data directory loses the funds.</p>
        <p className="mono wrap">{create.data.mnemonic}</p>
      </Card>
    )
  }
  return (
    <Card title="This node has no wallet yet">
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          create.mutate({ password, mnemonic: mnemonic.trim() === '' ? undefined : mnemonic.trim() })
        }}
      >
        <label className="field grow">
          <span>Password (8 characters or more)</span>
          <input type="password" autoComplete="new-password" minLength={8} value={password} onChange={event => { setPassword(event.target.value) }} required />
        </label>
        <label className="field grow">
          <span>Recovery phrase to import (leave empty to create a new wallet)</span>
          <input value={mnemonic} onChange={event => { setMnemonic(event.target.value) }} autoComplete="off" spellCheck={false} />
        </label>
        <button type="submit" className="button primary" disabled={create.isPending}>{mnemonic.trim() === '' ? 'Create wallet' : 'Import wallet'}</button>
      </form>
      {create.error != null && <ErrorNotice error={create.error} context="Creating the wallet" />}
    </Card>
  )
}

function History (): ReactNode {
  const history = useApiQuery<Transfer[]>('/api/wallet/history', 10_000)
  return (
    <Card title="History">
      {history.error != null && <ErrorNotice error={history.error} context="History" />}
      {history.data == null
        ? history.error == null && <Loading what="history" />
        : history.data.length === 0
          ? <EmptyState title="No transfers yet">Mining rewards are not transfers; they show in the balance.</EmptyState>
          : (
            <TableScroll label="Wallet history">
              <table>
                <thead><tr><th scope="col">When</th><th scope="col">Direction</th><th scope="col">Counterparty</th><th scope="col" className="num">Amount</th><th scope="col">Transaction</th></tr></thead>
                <tbody>
                  {history.data.map(transfer => (
                    <tr key={transfer.hash}>
                      <td>{formatTime(transfer.timestamp * 1000)} <span className="muted">#{transfer.blockNumber}</span></td>
                      <td><Badge tone={transfer.direction === 'in' ? 'good' : 'neutral'}>{transfer.direction}</Badge></td>
                      <td><Mono value={(transfer.direction === 'in' ? transfer.from : transfer.to) ?? 'contract creation'} keep={6} /></td>
                      <td className="num">{formatChi(transfer.value)}</td>
                      <td><Mono value={transfer.hash} keep={8} /></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
            )}
    </Card>
  )
}

function BrowserWalletCard (): ReactNode {
  const token = useToken()
  const chain = useApiQuery<ChainInfo>('/api/chain')
  const status = useApiQuery<Status>('/api/status', 10_000)
  return (
    <Card title="Browser wallet">
      <p className="muted">Connect a wallet extension to the Chiral chain to hold CHI in your own keys and pay for downloads from it.</p>
      {chain.error != null && <ErrorNotice error={chain.error} context="Chain" />}
      {chain.data == null || status.data == null
        ? chain.error == null && <Loading what="chain details" />
        : <BrowserWallet chainInfo={chain.data} rpcUrl={status.data.urls.rpc} rpcWsUrl={status.data.urls.rpcWs} token={token} />}
    </Card>
  )
}
