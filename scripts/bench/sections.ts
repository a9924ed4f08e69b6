import { existsSync, readFileSync, writeFileSync } from 'node:fs'

/**
 * Replaces one benchmark's section of BENCHMARKS.md: from its `<!-- name -->` marker up to the next
 * `<!-- ...-bench -->` marker (or the end), so benchmarks run separately never erase each other.
 * A section not there yet is appended.
 */
export function writeBenchSection (path: string, marker: string, section: string): void {
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const start = previous.indexOf(`${marker}\n`)
  if (start < 0) {
    writeFileSync(path, `${previous.trimEnd()}${previous.trim() === '' ? '' : '\n\n'}${section.trimEnd()}\n`)
    return
  }
  const rest = previous.slice(start + marker.length)
  const next = rest.search(/^<!-- [a-z-]+-bench -->$/m)
  const after = next < 0 ? '' : `\n${rest.slice(next)}`
  writeFileSync(path, `${previous.slice(0, start)}${section.trimEnd()}\n${after}`)
}
