import type { Metadata } from 'next'
import { DownloadPage } from '@/components/pages/download'

export const metadata: Metadata = { title: 'Download' }

export default function Page (): React.ReactNode {
  return <DownloadPage />
}
