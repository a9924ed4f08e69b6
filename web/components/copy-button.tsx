'use client'

import { useState, type ReactNode } from 'react'

export function CopyButton ({ value, label }: { value: string, label: string }): ReactNode {
  const [copied, setCopied] = useState(false)
  return (
    <button
      type="button"
      className="button small"
      aria-label={`${label}: ${value}`}
      onClick={() => {
        void navigator.clipboard.writeText(value).then(() => {
          setCopied(true)
          setTimeout(() => { setCopied(false) }, 1500)
        })
      }}
    >
      {copied ? 'Copied' : label}
    </button>
  )
}
