import type { Metadata, Viewport } from 'next'
import type { ReactNode } from 'react'
import { Shell } from '@/components/shell'
import { THEME_BOOT_SCRIPT } from '@/components/theme-toggle'
import { SessionProvider } from '@/lib/session'
import './globals.css'

export const metadata: Metadata = {
  title: { template: '%s · Chiral', default: 'Chiral' },
  description: 'Dashboard of a Chiral Network node'
}

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark'
}

export default function RootLayout ({ children }: { children: ReactNode }): ReactNode {
  return (
    // The boot script sets data-theme before React hydrates, which React would otherwise flag.
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: THEME_BOOT_SCRIPT }} />
      </head>
      <body>
        <SessionProvider>
          <Shell>{children}</Shell>
        </SessionProvider>
      </body>
    </html>
  )
}
