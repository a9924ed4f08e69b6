import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { writeBenchSection } from './bench/sections.js'

/** The budget for any page's initial JavaScript, gzipped. */
export const INITIAL_JS_BUDGET_BYTES = 500 * 1000

export interface PageSize {
  /** The route, e.g. /files/. */
  page: string
  scripts: number
  rawBytes: number
  gzipBytes: number
}

const DEFAULT_OUT = fileURLToPath(new URL('../../web/out/', import.meta.url))
const BENCHMARKS = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url))
const MARKER = '<!-- web-bench -->'

/**
 * Initial JS of each page of the static export: every <script src> its HTML loads plus its
 * inline scripts, each gzipped on its own as a server would send it. Chunks loaded later
 * (the Wallet page's RainbowKit, behind a dynamic import) are not initial and not counted.
 */
export function measurePages (outDir = DEFAULT_OUT): PageSize[] {
  return htmlPages(outDir).map(html => {
    const text = readFileSync(html, 'utf8')
    const external = [...text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map(match => match[1] as string)
    const inline = [...text.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(match => match[1] as string).filter(body => body !== '')
    const bodies = [...new Set(external)].map(src => readFileSync(join(outDir, src.replace(/^\//, '').split('?')[0] as string))).concat(inline.map(body => Buffer.from(body)))
    return {
      page: '/' + relative(outDir, html).replace(/index\.html$/, '').replace(/\.html$/, ''),
      scripts: bodies.length,
      rawBytes: bodies.reduce((sum, body) => sum + body.length, 0),
      gzipBytes: bodies.reduce((sum, body) => sum + gzipSync(body).length, 0)
    }
  }).sort((a, b) => a.page.localeCompare(b.page))
}

function htmlPages (dir: string): string[] {
  return readdirSync(dir).flatMap(name => {
    const path = join(dir, name)
    if (name === '_next') return []
    if (statSync(path).isDirectory()) return htmlPages(path)
    return name.endsWith('.html') ? [path] : []
  })
}

function main (): void {
  const pages = measurePages()
  const table = ['| page | scripts | initial JS | gzipped |', '|---|---:|---:|---:|',
    ...pages.map(page => `| ${page.page} | ${page.scripts} | ${(page.rawBytes / 1000).toFixed(1)} kB | ${(page.gzipBytes / 1000).toFixed(1)} kB |`)].join('\n') + '\n'
  if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(pages, null, 2) + '\n')
  else process.stdout.write(table)
  if (process.argv.includes('--write')) {
    const largest = Math.max(...pages.map(page => page.gzipBytes))
    writeBenchSection(BENCHMARKS, MARKER, [MARKER, '', '## Dashboard page weight', '',
      `Command: \`node dist/scripts/web-size.js --write\` (part of \`npm run bench\`), on the static export in web/out. Date: ${new Date().toISOString()}.`,
      `Initial JS is every script a page's HTML loads plus its inline scripts, each gzipped as a server would send it; chunks loaded later (the Wallet page's RainbowKit) are not initial.`,
      `Largest page: ${(largest / 1000).toFixed(1)} kB gzipped; budget ${INITIAL_JS_BUDGET_BYTES / 1000} kB: **${largest <= INITIAL_JS_BUDGET_BYTES ? 'met' : 'not met'}**.`, '', table].join('\n'))
  }
  const over = pages.filter(page => page.gzipBytes > INITIAL_JS_BUDGET_BYTES)
  if (over.length > 0) {
    process.stderr.write(`over the ${INITIAL_JS_BUDGET_BYTES / 1000} kB budget: ${over.map(page => page.page).join(', ')}\n`)
    process.exitCode = 1
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main()
