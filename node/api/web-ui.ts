import { createReadStream, existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/** The static export of web/ (next build), relative to dist/node/api at run time. */
const WEB_ROOT = fileURLToPath(new URL('../../../web/out/', import.meta.url))

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The dashboard's routes: the API's token check lets them through. */
    publicWebUi?: boolean
  }
}

const PUBLIC_ROUTE = { publicWebUi: true }

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  // Next's client router fetches each page's React Server Components payload as index.txt.
  '.txt': 'text/x-component; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8'
}

/**
 * Serves the dashboard (web/out) on the API port, to loopback clients only. The files are
 * public (nothing in them is secret); every /api route stays behind the token, which the app
 * gets from the pairing link's #fragment, never sent to the server.
 */
export function registerWebUi (app: FastifyInstance): void {
  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const path = decodedPath(request.url)
    if (path == null || path === '/api' || path.startsWith('/api/')) return reply.callNotFound()
    if (!isLoopback(request.socket.localAddress)) {
      return await reply.code(404).type('text/plain').send('the Chiral dashboard is served on 127.0.0.1 only\n')
    }
    if (!existsSync(WEB_ROOT)) {
      return await reply.code(503).type('text/plain').send(`the dashboard is not built (${WEB_ROOT} is missing): run npm run build\n`)
    }
    const file = await resolveFile(WEB_ROOT, path)
    setSecurityHeaders(reply)
    if (file == null) {
      const notFound = join(WEB_ROOT, '404.html')
      return await reply.code(404).type(CONTENT_TYPES['.html'] as string).header('Cache-Control', 'no-cache').send(createReadStream(notFound))
    }
    // Hashed build assets never change under the same name; pages must be revalidated.
    const immutable = path.startsWith('/_next/static/')
    return await reply
      .type(CONTENT_TYPES[extname(file)] ?? 'application/octet-stream')
      .header('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .send(createReadStream(file))
  }
  app.get('/', { schema: { hide: true }, config: PUBLIC_ROUTE }, handler)
  app.get('/*', { schema: { hide: true }, config: PUBLIC_ROUTE }, handler)
}

function decodedPath (url: string): string | undefined {
  try {
    return normalize(decodeURIComponent(url.split('?')[0] as string)).replaceAll(sep, '/')
  } catch {
    return undefined
  }
}

/** `/files/` and `/files` are files/index.html; anything resolving outside root is not found. */
async function resolveFile (root: string, path: string): Promise<string | undefined> {
  const candidate = join(root, path)
  if (!candidate.startsWith(root)) return undefined
  for (const file of [candidate, join(candidate, 'index.html'), `${candidate}.html`]) {
    const info = await stat(file).catch(() => undefined)
    if (info?.isFile() === true) return file
  }
  return undefined
}

function isLoopback (address: string | undefined): boolean {
  if (address == null) return false
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address
  return (isIP(plain) === 4 && plain.startsWith('127.')) || plain === '::1'
}

function setSecurityHeaders (reply: FastifyReply): void {
  reply.headers({
    // Next's static export inlines its bootstrap scripts and styles, hence 'unsafe-inline'.
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self' 'unsafe-inline'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "font-src 'self'",
      // The chain is reached through /api/rpc; an injected wallet makes its own requests.
      "connect-src 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "object-src 'none'"
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer'
  })
}
