import { readFileSync, readdirSync, writeFileSync } from 'node:fs'

/** The kernel's clock ticks per second for the times in /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100
const DELAY_ACCOUNTING = '/proc/sys/kernel/task_delayacct'

/**
 * Where a process's time went, from /proc: the counters a slow download is explained by. Times
 * are in seconds. `threads` splits user + system CPU by thread kind (the main JavaScript thread,
 * libuv's pool that hashes, reads and writes, and V8's helpers that collect garbage with the rest).
 */
export interface ProcessStats {
  user: number
  system: number
  minorFaults: number
  majorFaults: number
  voluntarySwitches: number
  involuntarySwitches: number
  /** Time threads were runnable but waiting for a core (schedstat). */
  runQueueWait: number
  /** Time threads waited for block I/O (delay accounting; 0 where it is off). */
  blockIoWait: number
  threads: Record<string, number>
}

export const NO_STATS: ProcessStats = {
  user: 0, system: 0, minorFaults: 0, majorFaults: 0, voluntarySwitches: 0, involuntarySwitches: 0, runQueueWait: 0, blockIoWait: 0, threads: {}
}

/**
 * Turns the kernel's per-task delay accounting on (it is off by default since Linux 5.14), so
 * block-I/O waits are counted. Needs root; returns whether it is on.
 */
export function enableDelayAccounting (): boolean {
  try {
    if (readFileSync(DELAY_ACCOUNTING, 'utf8').trim() === '1') return true
    writeFileSync(DELAY_ACCOUNTING, '1')
    return true
  } catch {
    return false
  }
}

/** Fields of a /proc stat line after the command name, which may hold spaces and parentheses. */
function statFields (text: string): string[] {
  return text.slice(text.lastIndexOf(')') + 2).split(' ')
}

/** Field N of proc(5)'s numbering (the pid is field 1, the state field 3). */
function field (fields: string[], n: number): number {
  return Number(fields[n - 3])
}

function statusCount (status: string, name: string): number {
  return Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
}

/**
 * Names threads by kind. The daemon names its libuv pool's threads (node/native/thread-pool.ts);
 * the rest are V8's helpers (garbage collection, compilation) and a few of Node's own.
 */
function threadKind (pid: number, tid: number, comm: string): string {
  if (tid === pid) return 'main'
  if (comm === 'libuv-worker') return 'libuv pool'
  return 'V8 and other'
}

/**
 * Reads a process's counters now. Whole-process CPU and fault counts include threads that have
 * ended; switches and waits are summed over the threads alive now (Node's threads live as long
 * as the process).
 */
export function readProcessStats (pid: number): ProcessStats {
  const whole = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  const stats: ProcessStats = {
    user: field(whole, 14) / TICKS_PER_SECOND,
    system: field(whole, 15) / TICKS_PER_SECOND,
    minorFaults: field(whole, 10),
    majorFaults: field(whole, 12),
    voluntarySwitches: 0,
    involuntarySwitches: 0,
    runQueueWait: 0,
    blockIoWait: field(whole, 42) / TICKS_PER_SECOND,
    threads: {}
  }
  for (const entry of readdirSync(`/proc/${pid}/task`)) {
    const tid = Number(entry)
    let stat: string, status: string, schedstat: string
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
      schedstat = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
    } catch {
      continue // the thread ended between the listing and the read
    }
    const fields = statFields(stat)
    const kind = threadKind(pid, tid, stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')))
    stats.threads[kind] = (stats.threads[kind] ?? 0) + (field(fields, 14) + field(fields, 15)) / TICKS_PER_SECOND
    stats.voluntarySwitches += statusCount(status, 'voluntary_ctxt_switches')
    stats.involuntarySwitches += statusCount(status, 'nonvoluntary_ctxt_switches')
    stats.runQueueWait += Number(schedstat.split(' ')[1] ?? 0) / 1e9
  }
  return stats
}

/** What happened between two readings of one process. */
export function statsSince (after: ProcessStats, before: ProcessStats): ProcessStats {
  const threads: Record<string, number> = {}
  for (const [kind, seconds] of Object.entries(after.threads)) threads[kind] = seconds - (before.threads[kind] ?? 0)
  return {
    user: after.user - before.user,
    system: after.system - before.system,
    minorFaults: after.minorFaults - before.minorFaults,
    majorFaults: after.majorFaults - before.majorFaults,
    voluntarySwitches: after.voluntarySwitches - before.voluntarySwitches,
    involuntarySwitches: after.involuntarySwitches - before.involuntarySwitches,
    runQueueWait: after.runQueueWait - before.runQueueWait,
    blockIoWait: after.blockIoWait - before.blockIoWait,
    threads
  }
}

/** Several processes' counters added up (the seeders of one download). */
export function sumStats (list: ProcessStats[]): ProcessStats {
  return list.reduce<ProcessStats>((sum, stats) => {
    const threads = { ...sum.threads }
    for (const [kind, seconds] of Object.entries(stats.threads)) threads[kind] = (threads[kind] ?? 0) + seconds
    return {
      user: sum.user + stats.user,
      system: sum.system + stats.system,
      minorFaults: sum.minorFaults + stats.minorFaults,
      majorFaults: sum.majorFaults + stats.majorFaults,
      voluntarySwitches: sum.voluntarySwitches + stats.voluntarySwitches,
      involuntarySwitches: sum.involuntarySwitches + stats.involuntarySwitches,
      runQueueWait: sum.runQueueWait + stats.runQueueWait,
      blockIoWait: sum.blockIoWait + stats.blockIoWait,
      threads
    }
  }, NO_STATS)
}

/** The median run's counters, field by field, of several runs of one scenario. */
export function medianStats (list: ProcessStats[], median: (values: number[]) => number): ProcessStats {
  const of = (pick: (stats: ProcessStats) => number): number => median(list.map(pick))
  const kinds = [...new Set(list.flatMap(stats => Object.keys(stats.threads)))]
  return {
    user: of(s => s.user),
    system: of(s => s.system),
    minorFaults: of(s => s.minorFaults),
    majorFaults: of(s => s.majorFaults),
    voluntarySwitches: of(s => s.voluntarySwitches),
    involuntarySwitches: of(s => s.involuntarySwitches),
    runQueueWait: of(s => s.runQueueWait),
    blockIoWait: of(s => s.blockIoWait),
    threads: Object.fromEntries(kinds.map(kind => [kind, of(s => s.threads[kind] ?? 0)]))
  }
}

/**
 * A command's own counters as GNU time reports them (`/usr/bin/time -f`), for reference
 * programs such as curl whose /proc entry is gone when they exit.
 */
export const GNU_TIME_FORMAT = 'chiral-bench-time %U %S %R %F %w %c'

export function parseGnuTime (stderr: string): ProcessStats | undefined {
  const match = /chiral-bench-time (\S+) (\S+) (\d+) (\d+) (\d+) (\d+)/.exec(stderr)
  if (match == null) return undefined
  const [, user, system, minor, major, voluntary, involuntary] = match.map(Number)
  return {
    ...NO_STATS,
    user: user ?? 0,
    system: system ?? 0,
    minorFaults: minor ?? 0,
    majorFaults: major ?? 0,
    voluntarySwitches: voluntary ?? 0,
    involuntarySwitches: involuntary ?? 0,
    threads: {}
  }
}
