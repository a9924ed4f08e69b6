'use client'

import '@rainbow-me/rainbowkit/styles.css'
import { ConnectButton, RainbowKitProvider, connectorsForWallets, darkTheme, lightTheme } from '@rainbow-me/rainbowkit'
import { injectedWallet } from '@rainbow-me/rainbowkit/wallets'
import { useMemo, useState, type ReactNode } from 'react'
import { defineChain, type Chain } from 'viem'
import { WagmiProvider, createConfig, http, useAccount, useBalance, useBlockNumber, useWalletClient } from 'wagmi'
import { ErrorNotice, Mono } from '@/components/ui'
import { formatChi } from '@/lib/format'
import type { ChainInfo } from '@/lib/types'

export interface BrowserWalletProps {
  chainInfo: ChainInfo
  /** The node's public JSON-RPC URL, which a wallet adds as the network's RPC. */
  rpcUrl: string
  rpcWsUrl: string
  token: string
}

/** The Chiral chain as wallets and viem see it; the chain id comes from the running node. */
export function chiralChain ({ chainInfo, rpcUrl, rpcWsUrl }: Omit<BrowserWalletProps, 'token'>): Chain {
  return defineChain({
    id: Number(chainInfo.chainId),
    name: chainInfo.network === 'chiral' ? 'Chiral' : `Chiral (${chainInfo.network})`,
    nativeCurrency: chainInfo.currency,
    rpcUrls: { default: { http: [rpcUrl], webSocket: rpcWsUrl === '' ? undefined : [rpcWsUrl] } }
  })
}

/**
 * RainbowKit with the injected (extension) wallet only: WalletConnect would need a cloud
 * project id and network access this node cannot assume. Loaded on the Wallet page alone, so
 * the other pages do not carry wagmi, viem and RainbowKit.
 */
export default function BrowserWallet (props: BrowserWalletProps): ReactNode {
  const { chainInfo, rpcUrl, rpcWsUrl } = props
  // Rebuilding the chain (and so the wagmi config) on every poll would drop the connection.
  const chain = useMemo(() => chiralChain({ chainInfo, rpcUrl, rpcWsUrl }), [chainInfo.chainId, chainInfo.network, rpcUrl, rpcWsUrl])
  const config = useMemo(() => createConfig({
    chains: [chain],
    connectors: connectorsForWallets([{ groupName: 'Installed', wallets: [injectedWallet] }], { appName: 'Chiral Network', projectId: 'unused-injected-only' }),
    // The page reads the chain through the node's API: the RPC port only answers browsers from
    // origins it was configured with, and the API is this page's own origin.
    transports: { [chain.id]: http('/api/rpc', { fetchOptions: { headers: { authorization: `Bearer ${props.token}` } } }) },
    ssr: false
  }), [chain, props.token])

  return (
    <WagmiProvider config={config}>
      <RainbowKitProvider theme={{ lightMode: lightTheme(), darkMode: darkTheme() }} initialChain={chain} appInfo={{ appName: 'Chiral Network' }}>
        <ConnectedWallet chain={chain} />
      </RainbowKitProvider>
    </WagmiProvider>
  )
}

/**
 * RainbowKit's modals with the dashboard's own buttons: the stock button fails the contrast
 * check and hides itself with aria-hidden while still focusable until it mounts.
 */
function WalletButtons (): ReactNode {
  return (
    <ConnectButton.Custom>
      {({ account, chain, mounted, openAccountModal, openChainModal, openConnectModal }) => {
        if (!mounted) return null
        if (account == null) return <button type="button" className="button primary" onClick={openConnectModal}>Connect browser wallet</button>
        return (
          <>
            <button type="button" className="button" onClick={openAccountModal}>{account.displayName}</button>
            <button type="button" className={`button ${chain?.unsupported === true ? 'primary' : ''}`} onClick={openChainModal}>
              {chain?.unsupported === true ? 'Switch to Chiral' : `Network: ${chain?.name ?? 'unknown'}`}
            </button>
          </>
        )
      }}
    </ConnectButton.Custom>
  )
}

function ConnectedWallet ({ chain }: { chain: Chain }): ReactNode {
  const account = useAccount()
  const balance = useBalance({ address: account.address, chainId: chain.id, query: { enabled: account.address != null, refetchInterval: 5000 } })
  const block = useBlockNumber({ chainId: chain.id, watch: true })
  const walletClient = useWalletClient()
  const [addState, setAddState] = useState<{ kind: 'idle' } | { kind: 'added' } | { kind: 'failed', error: unknown }>({ kind: 'idle' })
  const hasInjected = typeof window !== 'undefined' && 'ethereum' in window

  return (
    <div className="browser-wallet">
      {!hasInjected && (
        <p className="notice notice-info">
          No browser wallet detected. Install a wallet extension (such as MetaMask or Rabby), then reload this page to connect it.
        </p>
      )}
      <div className="form-row">
        <WalletButtons />
        <button
          type="button"
          className="button"
          disabled={walletClient.data == null}
          onClick={() => {
            walletClient.data?.addChain({ chain }).then(() => { setAddState({ kind: 'added' }) }, (error: unknown) => { setAddState({ kind: 'failed', error }) })
          }}
        >
          Add Chiral network to wallet
        </button>
      </div>
      {addState.kind === 'added' && <p className="notice notice-good" role="status">The wallet knows the Chiral network now (chain id {chain.id}).</p>}
      {addState.kind === 'failed' && <ErrorNotice error={addState.error} context="Adding the network" />}
      <p className="muted">
        Chain id {chain.id}, RPC <code>{chain.rpcUrls.default.http[0]}</code>
        {block.data != null && <>, block #{block.data.toString()}</>}
      </p>
      {account.address != null && (
        <p>
          Connected <Mono value={account.address} keep={6} />: {balance.data == null ? '…' : formatChi(balance.data.value)}
          {account.chainId !== chain.id && <span className="muted"> (the wallet is on another network: use the button above to switch)</span>}
        </p>
      )}
    </div>
  )
}
