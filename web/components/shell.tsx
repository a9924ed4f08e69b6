'use client'

import Link from 'next/link'
import { usePathname } from 'next/navigation'
import type { ReactNode } from 'react'
import { useLiveEvents } from '@/lib/events'
import { ThemeToggle } from './theme-toggle'

const PAGES = [
  { href: '/', label: 'Overview' },
  { href: '/files/', label: 'Files' },
  { href: '/download/', label: 'Download' },
  { href: '/earnings/', label: 'Earnings' },
  { href: '/wallet/', label: 'Wallet' },
  { href: '/mining/', label: 'Mining' },
  { href: '/network/', label: 'Network' }
]

export function Shell ({ children }: { children: ReactNode }): ReactNode {
  const pathname = usePathname()
  const { connected } = useLiveEvents()
  const current = (href: string): boolean => href === '/' ? pathname === '/' : pathname.startsWith(href.slice(0, -1))
  return (
    <div className="shell">
      <header className="topbar">
        <Link href="/" className="brand">Chiral</Link>
        <nav aria-label="Pages" className="nav">
          <ul>
            {PAGES.map(page => (
              <li key={page.href}>
                <Link href={page.href} aria-current={current(page.href) ? 'page' : undefined}>{page.label}</Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-tools">
          <span className={`live ${connected ? 'live-on' : 'live-off'}`} role="status">{connected ? 'Live' : 'Reconnecting…'}</span>
          <ThemeToggle />
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  )
}
