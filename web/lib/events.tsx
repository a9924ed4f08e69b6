'use client'

import { useQueryClient } from '@tanstack/react-query'
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react'
import type { AddProgress, Download } from './types'

interface LiveEvents {
  connected: boolean
  /** Hashing progress of files being added, by path. */
  adding: Record<string, AddProgress>
}

const EventsContext = createContext<LiveEvents>({ connected: false, adding: {} })

export function useLiveEvents (): LiveEvents {
  return useContext(EventsContext)
}

/**
 * One Server-Sent Events stream per tab. Download progress is written straight into the query
 * cache, so every page showing downloads moves without polling. EventSource cannot send an
 * Authorization header; the node accepts the token as a query parameter on this route only.
 */
export function EventsProvider ({ token, children }: { token: string, children: ReactNode }): ReactNode {
  const queryClient = useQueryClient()
  const [connected, setConnected] = useState(false)
  const [adding, setAdding] = useState<Record<string, AddProgress>>({})

  useEffect(() => {
    const source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`)
    source.onopen = () => { setConnected(true) }
    source.onerror = () => { setConnected(false) }
    source.addEventListener('download', message => {
      const download = JSON.parse((message as MessageEvent<string>).data) as Download
      queryClient.setQueryData<Download>([`/api/downloads/${download.cid}`], download)
      queryClient.setQueryData<Download[]>(['/api/downloads'], list => upsert(list, download))
    })
    source.addEventListener('add', message => {
      const progress = JSON.parse((message as MessageEvent<string>).data) as AddProgress
      setAdding(current => ({ ...current, [progress.path]: progress }))
    })
    return () => { source.close() }
  }, [token, queryClient])

  return <EventsContext.Provider value={{ connected, adding }}>{children}</EventsContext.Provider>
}

function upsert (list: Download[] | undefined, download: Download): Download[] | undefined {
  if (list == null) return list
  const index = list.findIndex(entry => entry.cid === download.cid)
  if (index < 0) return [download, ...list]
  return list.map((entry, i) => i === index ? download : entry)
}
