import type { Metadata } from 'next'
import { OverviewPage } from '@/components/pages/overview'

// The layout's title template applies to nested routes only, not to its own page.
export const metadata: Metadata = { title: { absolute: 'Overview · Chiral' } }

export default function Page (): React.ReactNode {
  return <OverviewPage />
}
