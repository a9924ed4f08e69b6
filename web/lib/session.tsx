'use client'

import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react'
import { PairingScreen } from '@/components/pairing-screen'
import { ApiError } from './api'
import { EventsProvider } from './events'
import { adoptTokenFromUrl, forgetToken, storeToken, storedToken } from './token'

type SessionState = { kind: 'loading' } | { kind: 'paired', token: string } | { kind: 'unpaired', reason?: string }

const TokenContext = createContext<string | null>(null)

/** The API token every request carries; only rendered inside a paired session. */
export function useToken (): string {
  const token = useContext(TokenContext)
  if (token == null) throw new Error('useToken outside a paired session')
  return token
}

/**
 * Holds the node's API token (from the pairing link or typed in) and everything that needs it:
 * the query cache and the live event stream. A 401 from the node drops the token and asks to
 * pair again, since retrying with it cannot succeed.
 */
export function SessionProvider ({ children }: { children: ReactNode }): ReactNode {
  const [state, setState] = useState<SessionState>({ kind: 'loading' })
  const unpair = useCallback((reason?: string) => {
    forgetToken()
    setState({ kind: 'unpaired', reason })
  }, [])
  const [queryClient] = useState(() => new QueryClient({
    queryCache: new QueryCache({
      onError: error => {
        if (error instanceof ApiError && error.status === 401) unpair('The node did not accept the saved token (was the data directory replaced?). Pair again.')
      }
    }),
    defaultOptions: {
      queries: {
        // Client errors (a missing route, a bad request) do not get better by asking again.
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
        refetchOnWindowFocus: true
      }
    }
  }))

  useEffect(() => {
    adoptTokenFromUrl()
    const token = storedToken()
    setState(token == null ? { kind: 'unpaired' } : { kind: 'paired', token })
  }, [])

  if (state.kind === 'loading') return <p className="loading" role="status">Loading…</p>
  if (state.kind === 'unpaired') {
    return (
      <PairingScreen
        reason={state.reason}
        onPair={token => {
          storeToken(token)
          queryClient.clear()
          setState({ kind: 'paired', token })
        }}
      />
    )
  }
  return (
    <TokenContext.Provider value={state.token}>
      <QueryClientProvider client={queryClient}>
        <EventsProvider token={state.token}>{children}</EventsProvider>
      </QueryClientProvider>
    </TokenContext.Provider>
  )
}
