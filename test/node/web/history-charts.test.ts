import { expect } from 'chai'
import type { Browser, Page } from 'playwright-core'
import { TestNetwork, waitFor, type Daemon } from '../helpers/index.js'
import { collectPageErrors, launchChromium, requireBrowserPrerequisites } from './browser.js'

/** Points of each line of the chart titled `title`, as soon as it is drawn. */
async function chartPoints (page: Page, title: string): Promise<number[]> {
  const lines = page.locator(`svg[aria-label^="${title}:"] polyline`)
  await lines.first().waitFor({ state: 'attached', timeout: 15_000 }) // a flat line at zero has no height, so is never "visible"
  const all: string[] = await lines.evaluateAll(elements => elements.map(element => element.getAttribute('points') ?? ''))
  return all.map(points => points.trim().split(/\s+/).filter((point: string) => point.length > 0).length)
}

describe('web dashboard: charts start from the daemon\'s history', function () {
  this.timeout(180_000)
  const net = new TestNetwork()
  let node: Daemon
  let browser: Browser
  let samples = 0
  const errors: string[] = []

  before(async function () {
    requireBrowserPrerequisites()
    node = await net.start('history-charts', { mine: true, genesis: 'dev', env: { CHIRAL_HISTORY_INTERVAL_MS: '300' } })
    // The page polls every 2 s: it could draw 8 points of its own only after some 14 s.
    samples = await waitFor('8 history samples with a hashrate', async () => {
      const history = await node.ok<{ samples: Array<{ hashrate: number }> }>('GET', '/api/history')
      return history.samples.filter(sample => sample.hashrate > 0).length >= 8 ? history.samples.length : undefined
    }, { timeoutMs: 90_000 })
    browser = await launchChromium()
  })
  after(async function () {
    await browser?.close()
    await net.cleanup()
  })

  for (const { path, title, lines } of [{ path: '/mining/', title: 'Hashrate', lines: 1 }, { path: '/', title: 'Bandwidth', lines: 2 }]) {
    it(`draws the ${title} chart with the history right after load (${path})`, async function () {
      const context = await browser.newContext()
      try {
        const page = await context.newPage()
        collectPageErrors(page, errors)
        const opened = Date.now()
        await page.goto(`${node.url}${path}#token=${node.token}`)
        const points = await chartPoints(page, title)
        const elapsed = Date.now() - opened
        expect(points).to.have.length(lines)
        for (const count of points) expect(count, `points drawn ${elapsed} ms after opening`).to.be.at.least(Math.min(samples, 8))
        expect(elapsed, 'drawn before the page could have sampled 8 points itself').to.be.below(12_000)
        expect(errors).to.deep.equal([])
      } finally {
        await context.close()
      }
    })
  }
})
