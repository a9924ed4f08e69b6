import type { Metadata } from 'next'
import { FilesPage } from '@/components/pages/files'

export const metadata: Metadata = { title: 'Files' }

export default function Page (): React.ReactNode {
  return <FilesPage />
}
