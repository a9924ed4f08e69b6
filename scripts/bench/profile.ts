import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string, url: string, lineNumber: number }
}

interface CpuProfile { nodes: ProfileNode[], startTime: number, endTime: number, samples: number[], timeDeltas: number[] }

export interface Frame { name: string, busyPercent: number, ms: number }

/** CLOCK_MONOTONIC in microseconds: the clock V8 stamps profile samples with on Linux. */
export function monotonicMicros (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/**
 * Self time of the hottest frames in the .cpuprofile files of `dir` (node --cpu-prof), counting
 * only samples inside [fromUs, toUs] (monotonic microseconds), as shares of the busy samples.
 */
export function topFrames (dir: string, fromUs: number, toUs: number, limit = 15): { frames: Frame[], busyPercent: number, windowMs: number, threads: number } {
  const files = readdirSync(dir).filter(name => name.endsWith('.cpuprofile'))
  const byFrame = new Map<string, number>()
  let busyUs = 0
  let allUs = 0
  let threads = 0
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
    const names = new Map<number, string>()
    for (const node of profile.nodes) {
      const { functionName, url, lineNumber } = node.callFrame
      const where = url === '' ? '' : ` ${shortUrl(url)}:${lineNumber + 1}`
      names.set(node.id, `${functionName === '' ? '(anonymous)' : functionName}${where}`)
    }
    let at = profile.startTime
    let counted = false
    for (let i = 0; i < profile.samples.length; i++) {
      const delta = profile.timeDeltas[i] ?? 0
      at += delta
      if (at < fromUs || at > toUs) continue
      counted = true
      const name = names.get(profile.samples[i] as number) ?? '?'
      // Each sample stands for the time until the next one.
      const weight = profile.timeDeltas[i + 1] ?? delta
      allUs += weight
      if (name === '(idle)') continue
      busyUs += weight
      byFrame.set(name, (byFrame.get(name) ?? 0) + weight)
    }
    if (counted) threads++
  }
  const frames = [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, busyPercent: us / Math.max(1, busyUs) * 100, ms: us / 1000 }))
  return { frames, busyPercent: busyUs / Math.max(1, allUs) * 100, windowMs: (toUs - fromUs) / 1000, threads }
}

function shortUrl (url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const modules = path.lastIndexOf('node_modules/')
  if (modules >= 0) return path.slice(modules + 'node_modules/'.length)
  const dist = path.lastIndexOf('/dist/')
  return dist >= 0 ? path.slice(dist + 1) : path
}
