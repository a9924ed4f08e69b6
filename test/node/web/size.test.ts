import { expect } from 'chai'
import { INITIAL_JS_BUDGET_BYTES, measurePages } from '../../../scripts/web-size.js'
import { requireWebBuild } from './browser.js'

describe('dashboard bundle size', function () {
  it(`keeps every page's initial JavaScript within ${INITIAL_JS_BUDGET_BYTES / 1000} kB gzipped (npm run build; node dist/scripts/web-size.js)`, function () {
    requireWebBuild()
    const pages = measurePages()
    expect(pages.map(page => page.page)).to.include.members(['/', '/files/', '/download/', '/earnings/', '/wallet/', '/mining/', '/network/'])
    const over = pages.filter(page => page.gzipBytes > INITIAL_JS_BUDGET_BYTES)
    expect(over, JSON.stringify(over)).to.deep.equal([])
  })
})
