import { readFileSync, readdirSync } from 'node:fs'
import { sleep } from './proc.js'

/**
 * CPU used by processes that are not the bench or its descendants ("foreign" load), from
 * /proc/stat and /proc/<pid>/stat, in cores. On a 2-core machine anything else running (a test
 * suite, a compiler) changes every number, so each measurement records it and, while the wait
 * budget lasts, waits for a quiet moment first.
 */
interface Snapshot { at: number, systemTicks: number, ownTicks: number }

const TICKS_PER_SECOND = 100 // USER_HZ, the unit of both /proc/stat and /proc/<pid>/stat

function systemBusyTicks (): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal ...
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields
  return user + nice + system + irq + softirq + steal
}

function readStat (pid: string): { ppid: number, ticks: number, childTicks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
    const field = (n: number): number => Number(rest[n - 3])
    return { ppid: field(4), ticks: field(14) + field(15), childTicks: field(16) + field(17) }
  } catch {
    return undefined
  }
}

/** CPU ticks of this process, its reaped children, and every live descendant. */
function ownTicks (): number {
  const stats = new Map<number, { ppid: number, ticks: number }>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const stat = readStat(name)
    if (stat != null) stats.set(Number(name), stat)
  }
  const self = readStat('self')
  let total = (self?.ticks ?? 0) + (self?.childTicks ?? 0)
  const ours = new Set([process.pid])
  let grew = true
  while (grew) {
    grew = false
    for (const [pid, stat] of stats) {
      if (!ours.has(pid) && ours.has(stat.ppid)) {
        ours.add(pid)
        total += stat.ticks
        grew = true
      }
    }
  }
  return total
}

function snapshot (): Snapshot {
  return { at: performance.now(), systemTicks: systemBusyTicks(), ownTicks: ownTicks() }
}

/** Average foreign CPU, in cores, between two snapshots. */
function foreignCores (from: Snapshot, to: Snapshot): number {
  const seconds = (to.at - from.at) / 1000
  if (seconds <= 0) return 0
  const foreign = (to.systemTicks - from.systemTicks) - (to.ownTicks - from.ownTicks)
  return Math.max(0, foreign / TICKS_PER_SECOND / seconds)
}

export class LoadMonitor {
  /** Total time the bench may spend waiting for quiet, so a busy machine cannot stall it. */
  private waitBudgetMs: number
  waitedMs = 0

  constructor (waitBudgetMs: number, private readonly maxWaitPerMeasurementMs = 30_000, private readonly quietCores = 0.15) {
    this.waitBudgetMs = waitBudgetMs
  }

  /** Waits (within the budget) until foreign load over a 0.5 s window is below the threshold. */
  async waitForQuiet (log: (message: string) => void): Promise<number> {
    const started = performance.now()
    let warned = false
    for (;;) {
      const before = snapshot()
      await sleep(500)
      const cores = foreignCores(before, snapshot())
      const waited = performance.now() - started
      if (cores < this.quietCores || waited >= Math.min(this.waitBudgetMs, this.maxWaitPerMeasurementMs)) {
        this.waitBudgetMs = Math.max(0, this.waitBudgetMs - waited)
        this.waitedMs += waited
        if (warned) log(`    (waited ${(waited / 1000).toFixed(1)} s for other processes; foreign load now ${cores.toFixed(2)} cores)`)
        return cores
      }
      if (!warned) {
        log(`    other processes use ${cores.toFixed(2)} cores; waiting for a quiet moment (budget ${(this.waitBudgetMs / 1000).toFixed(0)} s left)`)
        warned = true
      }
    }
  }

  /** Measures `fn` and the average foreign CPU (cores) while it ran. */
  async measure<T> (fn: () => Promise<T>): Promise<{ value: T, foreignCores: number }> {
    const before = snapshot()
    const value = await fn()
    return { value, foreignCores: foreignCores(before, snapshot()) }
  }
}
