import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { REPO_ROOT } from '../helpers/index.js'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const WEB_OUT = join(REPO_ROOT, 'web', 'out')
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-results', 'screenshots')

/** Flags that keep Debian's Chromium from reaching for the network or a GPU on a test host. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Fails loudly (never skips) when what the browser tests need is not installed or built. */
export function requireBrowserPrerequisites (): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`the dashboard tests need Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`)
  }
  requireWebBuild()
}

export function requireWebBuild (): void {
  if (!existsSync(join(WEB_OUT, 'index.html'))) {
    throw new Error(`the dashboard is not built (${WEB_OUT} is missing): run npm run build`)
  }
}

/** Playwright gives every launch a fresh temporary profile. */
export async function launchChromium (): Promise<Browser> {
  await mkdir(SCREENSHOT_DIR, { recursive: true })
  return await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
}

/**
 * Routes a node without payments answers 404 (the route does not exist yet); the pages show
 * "not available" for them, so those 404s are expected.
 */
const OPTIONAL_ROUTES = ['/api/earnings', '/api/downloads/quote']

/** Records a page's uncaught exceptions, console errors and failed requests into `errors`. */
export function collectPageErrors (page: Page, errors: string[]): void {
  page.on('pageerror', error => { errors.push(`uncaught: ${error.message}`) })
  page.on('console', message => {
    // Chromium reports every failed response this way, without the URL; responses are checked below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`)
  })
  page.on('response', response => {
    const path = new URL(response.url()).pathname
    const optional = response.status() === 404 && OPTIONAL_ROUTES.includes(path)
    if (response.status() >= 400 && !optional) errors.push(`HTTP ${response.status()} for ${response.request().method()} ${path}`)
  })
}

export interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: Array<{ target: unknown[] }>
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/** Runs axe-core inside the page and returns the serious and critical violations. */
export async function seriousAxeViolations (page: Page): Promise<AxeViolation[]> {
  // Strings, not functions: this project compiles without the DOM library.
  if (!await page.evaluate<boolean>("'axe' in window")) await page.addScriptTag({ content: axeSource })
  const violations = await page.evaluate<AxeViolation[]>(`axe.run(document, { resultTypes: ['violations'] })
    .then(result => result.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({ target: n.target })) })))`)
  return violations.filter(violation => violation.impact === 'serious' || violation.impact === 'critical')
}

export function describeViolations (violations: AxeViolation[]): string {
  return violations.map(v => `${v.impact ?? ''} ${v.id}: ${v.help} at ${v.nodes.slice(0, 3).map(n => JSON.stringify(n.target)).join(', ')}`).join('\n')
}
