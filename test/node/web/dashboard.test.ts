import { join } from 'node:path'
import { expect } from 'chai'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { MiB, TestNetwork, expectIntactDownload, randomFile, waitFor, type Daemon, type DownloadView } from '../helpers/index.js'
import { SCREENSHOT_DIR, collectPageErrors, describeViolations, launchChromium, requireBrowserPrerequisites, seriousAxeViolations } from './browser.js'

const PAGES = [
  { path: '/', name: 'overview', heading: 'Overview' },
  { path: '/files/', name: 'files', heading: 'Files' },
  { path: '/download/', name: 'download', heading: 'Download' },
  { path: '/earnings/', name: 'earnings', heading: 'Earnings' },
  { path: '/wallet/', name: 'wallet', heading: 'Wallet' },
  { path: '/mining/', name: 'mining', heading: 'Mining' },
  { path: '/network/', name: 'network', heading: 'Network' }
]
const DESKTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

/** Opens the dashboard the way a user does: through the pairing link the daemon printed. */
async function openPaired (context: BrowserContext, node: Daemon, path = '/'): Promise<Page> {
  const page = await context.newPage()
  await page.goto(`${node.url}${path}#token=${node.token}`)
  return page
}

/** Until nothing on the page says it is still loading. */
async function waitUntilSettled (page: Page): Promise<void> {
  // A function, not a string: the dashboard's Content-Security-Policy forbids eval.
  await page.waitForFunction(() => {
    const doc = (globalThis as unknown as { document: { querySelector: (selector: string) => unknown } }).document
    return doc.querySelector('[role="status"].muted, .loading') == null && doc.querySelector('h1') != null
  }, undefined, { timeout: 15_000 })
}

describe('web dashboard in Chromium', function () {
  this.timeout(180_000)
  const net = new TestNetwork()
  let seeder: Daemon
  let leecher: Daemon
  let browser: Browser
  let context: BrowserContext
  let errors: string[] = []

  before(async function () {
    requireBrowserPrerequisites()
    const [first, second] = await net.startConnected(['seeder', 'leecher'], { seeder: { maxUploadRate: '4M' } })
    if (first == null || second == null) throw new Error('two daemons expected')
    seeder = first
    leecher = second
    browser = await launchChromium()
  })
  beforeEach(async function () {
    context = await browser.newContext({ viewport: DESKTOP })
    errors = []
    context.on('page', page => { collectPageErrors(page, errors) })
  })
  afterEach(async function () { await context?.close() })
  after(async function () {
    await browser?.close()
    await net.cleanup()
  })

  it('serves the app on the API port to anyone local, while every /api route still needs the token', async function () {
    const page = await fetch(`${seeder.url}/files/`)
    expect(page.status).to.equal(200)
    expect(page.headers.get('content-type')).to.match(/text\/html/)
    expect(page.headers.get('content-security-policy')).to.include("frame-ancestors 'none'")
    expect((await seeder.api('GET', '/api/status', undefined, { token: null })).status).to.equal(401)
    expect((await seeder.api('GET', '/%61pi/status', undefined, { token: null })).status, 'an encoded /api path is still the API').to.equal(401)
    expect((await fetch(`${seeder.url}/..%2f..%2fpackage.json`)).headers.get('content-type')).to.match(/text\/html/)
  })

  it('pairs through the #token link, keeps the token out of the address bar, and asks to pair without one', async function () {
    const page = await openPaired(context, seeder)
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    expect(new URL(page.url()).hash, 'token removed from the URL').to.equal('')
    await page.getByText('Peers').first().waitFor()

    const stranger = await browser.newContext()
    const unpaired = await stranger.newPage()
    await unpaired.goto(`${seeder.url}/`)
    await unpaired.getByRole('heading', { name: /Pair this dashboard/ }).waitFor()
    await unpaired.getByLabel('Pairing link or API token').fill(`${seeder.url}/#token=${seeder.token}`)
    await unpaired.getByRole('button', { name: 'Pair' }).click()
    await unpaired.getByRole('heading', { name: 'Overview' }).waitFor()
    await stranger.close()
    expect(errors).to.deep.equal([])
  })

  it('adds a file in one node\'s UI and downloads it through another\'s, with live progress to completion', async function () {
    const dir = await net.tempDir('web-files')
    const file = await randomFile(dir, 'dashboard-film.bin', 12 * MiB)

    const seederPage = await openPaired(context, seeder, '/files/')
    await seederPage.getByLabel('Path of the file on the node').fill(file.path)
    await seederPage.getByRole('button', { name: 'Add', exact: true }).click()
    const added = seederPage.getByRole('status').filter({ hasText: 'Seeding dashboard-film.bin' })
    await added.waitFor()
    const cid = (await added.locator('code').textContent())?.trim() ?? ''
    expect(cid).to.match(/^bafkrei/)
    await seederPage.locator(`tr[data-cid="${cid}"]`).getByText('seeding').waitFor()

    const clip = await randomFile(dir, 'uploaded-clip.bin', 200_000)
    await seederPage.getByLabel(/^File/).setInputFiles(clip.path)
    await seederPage.getByRole('button', { name: 'Upload', exact: true }).click()
    await seederPage.getByRole('status').filter({ hasText: 'Seeding uploaded-clip.bin' }).waitFor()
    expect((await seeder.files()).map(entry => entry.path)).to.include(join(seeder.home, 'uploads', 'uploaded-clip.bin'))

    const leecherPage = await openPaired(context, leecher, '/download/')
    await leecherPage.getByLabel('Content id').fill(cid)
    await leecherPage.getByRole('button', { name: 'Find seeders' }).click()
    // A free file: the quote shows no cost and the confirmation is a plain Download.
    await leecherPage.getByRole('button', { name: 'Download', exact: true }).click()

    const progress = leecherPage.getByRole('progressbar', { name: /dashboard-film\.bin/ })
    await progress.waitFor({ timeout: 20_000 })
    const seen = new Set<number>()
    let sawTransports = false
    await waitFor('the download to complete in the UI', async () => {
      seen.add(Number(await progress.getAttribute('aria-valuenow')))
      sawTransports ||= await leecherPage.getByRole('table', { name: 'Per transport' }).getByRole('cell', { name: /^(native|http)$/ }).count() > 0
      return await leecherPage.locator('.live-download [data-state="completed"]').count() > 0
    }, { timeoutMs: 60_000, intervalMs: 100 })
    expect([...seen].some(value => value > 0 && value < 100), `saw progress between 0 and 100 (saw ${[...seen].join(', ')})`).to.equal(true)
    expect(sawTransports, 'per-transport progress shown while downloading').to.equal(true)
    expect(Number(await progress.getAttribute('aria-valuenow'))).to.equal(100)

    const download = await leecher.download(cid) as DownloadView & { outputPath: string }
    await expectIntactDownload(download.outputPath, file, cid)
    await leecherPage.screenshot({ path: join(SCREENSHOT_DIR, 'download-completed.png'), fullPage: true })
    expect(errors).to.deep.equal([])
  })

  it('renders every page at 1280x800 and phone width, light and dark, with no serious or critical axe violations', async function () {
    const page = await openPaired(context, leecher)
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    const failures: string[] = []
    for (const target of PAGES) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: target.heading, exact: true }).click()
      await page.getByRole('heading', { level: 1, name: target.heading }).waitFor()
      expect(await page.title()).to.equal(`${target.heading} · Chiral`)
      for (const [label, viewport, scheme] of [['desktop', DESKTOP, 'light'], ['desktop-dark', DESKTOP, 'dark'], ['phone', PHONE, 'light']] as const) {
        await page.setViewportSize(viewport)
        await page.emulateMedia({ colorScheme: scheme })
        await waitUntilSettled(page)
        const violations = await seriousAxeViolations(page)
        if (violations.length > 0) failures.push(`${target.name} (${label}):\n${describeViolations(violations)}`)
        await page.screenshot({ path: join(SCREENSHOT_DIR, `${target.name}-${label}.png`), fullPage: true })
        if (label === 'phone') {
          const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth')
          if (overflow > 0) failures.push(`${target.name} (${label}): the page is ${overflow}px wider than the screen`)
        }
      }
      await page.setViewportSize(DESKTOP)
    }
    expect(failures, failures.join('\n\n')).to.deep.equal([])
    expect(errors).to.deep.equal([])
  })

  it('switches to dark mode with the toggle and remembers it', async function () {
    const page = await openPaired(context, seeder)
    await page.emulateMedia({ colorScheme: 'light' })
    await page.getByRole('button', { name: /^Theme: system/ }).click()
    const theme = 'document.documentElement.dataset.theme'
    const background = 'getComputedStyle(document.body).backgroundColor'
    expect(await page.evaluate<string>(theme)).to.equal('dark')
    const darkBackground = await page.evaluate<string>(background)
    await page.reload()
    await page.getByRole('heading', { name: 'Overview' }).waitFor()
    expect(await page.evaluate<string>(theme)).to.equal('dark')
    expect(await page.evaluate<string>(background)).to.equal(darkBackground).and.not.equal('rgb(246, 247, 249)')
  })

})

/** The dev genesis funds the first account of this well-known test phrase. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

describe('web dashboard: a paid download and a claim, on a mining dev chain', function () {
  this.timeout(240_000)
  const net = new TestNetwork()
  let seeder: Daemon
  let leecher: Daemon
  let browser: Browser

  before(async function () {
    requireBrowserPrerequisites()
    leecher = await net.start('leecher', { genesis: 'dev', mine: true })
    seeder = await net.start('seeder', { genesis: 'dev', bootstrap: [leecher.bootstrapAddress] })
    await leecher.waitForPeers(1)
    await leecher.ok('POST', '/api/wallet', { password: 'dashboard-test-password', mnemonic: DEV_MNEMONIC, force: true })
    const { address } = await seeder.ok<{ address: string }>('GET', '/api/wallet')
    await leecher.ok('POST', '/api/wallet/send', { to: address, amount: '1' })
    await waitFor('the seeder to hold gas money', async () => BigInt((await seeder.ok<{ balance: string }>('GET', '/api/wallet')).balance) > 0n, { timeoutMs: 90_000, intervalMs: 500 })
    browser = await launchChromium()
  })
  after(async function () {
    await browser?.close()
    await net.cleanup()
  })

  it('confirms the cost, downloads, and shows the seeder\'s earnings rising after a claim', async function () {
    const context = await browser.newContext({ viewport: DESKTOP })
    const errors: string[] = []
    context.on('page', page => { collectPageErrors(page, errors) })
    const dir = await net.tempDir('paid-web-files')
    const file = await randomFile(dir, 'paid-film.bin', 8 * MiB)
    const { cid } = await seeder.ok<{ cid: string }>('POST', '/api/files', { path: file.path, pricePerMiB: (10n ** 16n).toString() })

    const leecherPage = await openPaired(context, leecher, '/download/')
    await leecherPage.getByLabel('Content id').fill(cid)
    await leecherPage.getByRole('button', { name: 'Find seeders' }).click()
    await leecherPage.getByRole('button', { name: 'Confirm and pay up to 0.08 CHI' }).click()
    await waitFor('the paid download to complete', async () => await leecherPage.locator('.live-download [data-state="completed"]').count() > 0, { timeoutMs: 90_000, intervalMs: 200 })
    await expectIntactDownload((await leecher.download(cid) as DownloadView & { outputPath: string }).outputPath, file, cid)

    const earningsPage = await openPaired(context, seeder, '/earnings/')
    const totals = earningsPage.getByRole('region', { name: 'Totals' })
    await totals.getByText('0.08').first().waitFor({ timeout: 30_000 })
    await earningsPage.getByRole('button', { name: 'Claim 0.08 CHI' }).click()
    await earningsPage.getByText(/Claim sent in 1 transaction/).waitFor({ timeout: 60_000 })
    await waitFor('the claim to show as confirming or redeemed', async () => {
      const earnings = await seeder.ok<{ redeemedWei: string, confirmingWei: string, pendingWei: string }>('GET', '/api/earnings')
      return BigInt(earnings.confirmingWei) + BigInt(earnings.redeemedWei) === 8n * 10n ** 16n && earnings.pendingWei === '0'
    }, { timeoutMs: 30_000, intervalMs: 250 })
    await earningsPage.getByRole('region', { name: 'Claim transactions' }).getByRole('row').nth(1).waitFor()
    await earningsPage.screenshot({ path: join(SCREENSHOT_DIR, 'earnings-after-claim.png'), fullPage: true })
    expect(errors).to.deep.equal([])
    await context.close()
  })
})
