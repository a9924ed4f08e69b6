import type { Metadata } from 'next'
import { EarningsPage } from '@/components/pages/earnings'

export const metadata: Metadata = { title: 'Earnings' }

export default function Page (): React.ReactNode {
  return <EarningsPage />
}
