import type { Metadata } from 'next'
import { NetworkPage } from '@/components/pages/network'

export const metadata: Metadata = { title: 'Network' }

export default function Page (): React.ReactNode {
  return <NetworkPage />
}
