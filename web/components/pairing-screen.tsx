'use client'

import { useState, type ReactNode } from 'react'
import { parseTokenInput } from '@/lib/token'

/** Shown until the dashboard has the node's API token. */
export function PairingScreen ({ reason, onPair }: { reason?: string, onPair: (token: string) => void }): ReactNode {
  const [input, setInput] = useState('')
  return (
    <main className="pairing">
      <h1>Pair this dashboard with your node</h1>
      {reason != null && <p className="notice notice-error" role="alert">{reason}</p>}
      <p>
        Open the <strong>dashboard</strong> link the daemon printed when it started
        (<code>http://127.0.0.1:30483/#token=…</code>), or paste it, or the token from
        {' '}<code>&lt;data directory&gt;/api-token</code>, here. <code>npx chiral status</code> prints the link again.
      </p>
      <form
        className="form-row"
        onSubmit={event => {
          event.preventDefault()
          const token = parseTokenInput(input)
          if (token !== '') onPair(token)
        }}
      >
        <label className="field grow">
          <span>Pairing link or API token</span>
          <input type="password" autoComplete="off" value={input} onChange={event => { setInput(event.target.value) }} required />
        </label>
        <button type="submit" className="button primary">Pair</button>
      </form>
    </main>
  )
}
