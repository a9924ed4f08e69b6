import { readFileSync } from 'node:fs'

/** Fails the contract test run when solidity-coverage measured less than the required coverage. */
const REQUIRED_PERCENT = 95
const SUMMARY_FILE = 'coverage/coverage-summary.json'

interface Metric { pct: number }
const summary = JSON.parse(readFileSync(SUMMARY_FILE, 'utf8')) as { total: Record<'lines' | 'branches' | 'statements' | 'functions', Metric> }
const short = (['lines', 'branches'] as const).filter(metric => summary.total[metric].pct < REQUIRED_PERCENT)
for (const metric of ['lines', 'branches', 'statements', 'functions'] as const) {
  console.log(`contract ${metric}: ${summary.total[metric].pct}%`)
}
if (short.length > 0) {
  console.error(`contract coverage below ${REQUIRED_PERCENT}%: ${short.join(', ')}`)
  process.exitCode = 1
}
