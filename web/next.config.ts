import { resolve } from 'node:path'
import type { NextConfig } from 'next'

const config: NextConfig = {
  // The node serves the dashboard as plain files from its API port: no Next server at run time.
  output: 'export',
  // Every page becomes <route>/index.html, which a static file server maps without rewrites.
  trailingSlash: true,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
  turbopack: {
    // The npm workspace root, where next and its dependencies are installed.
    root: resolve(process.cwd(), '..'),
    resolveAlias: {
      // wagmi's connector bundle imports the Base Account SDK, whose optional peers are not
      // installed; the dashboard only offers injected wallets, so a stub stands in for it.
      '@base-org/account': './lib/stubs/base-account.ts'
    }
  }
}

export default config
