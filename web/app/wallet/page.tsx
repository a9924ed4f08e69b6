import type { Metadata } from 'next'
import { WalletPage } from '@/components/pages/wallet'

export const metadata: Metadata = { title: 'Wallet' }

export default function Page (): React.ReactNode {
  return <WalletPage />
}
