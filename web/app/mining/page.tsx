import type { Metadata } from 'next'
import { MiningPage } from '@/components/pages/mining'

export const metadata: Metadata = { title: 'Mining' }

export default function Page (): React.ReactNode {
  return <MiningPage />
}
