#!/usr/bin/env node
// Builds the dashboard (web/ -> web/out) unless its sources are unchanged since the last build.
// Plain JavaScript because it runs before tsc in `npm run build`.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const web = join(root, 'web')
const stampPath = join(web, 'out', '.source-hash')
const SKIP = new Set(['node_modules', '.next', 'out'])

/** Content, not mtimes: a fresh clone or checkout touches every file without changing any. */
function sourceHash () {
  const hash = createHash('sha256')
  const visit = dir => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (SKIP.has(entry.name) || entry.name === 'next-env.d.ts') continue
      const path = join(dir, entry.name)
      if (entry.isDirectory()) visit(path)
      else if (entry.isFile()) hash.update(relative(web, path)).update('\0').update(readFileSync(path)).update('\0')
    }
  }
  visit(web)
  // Dependency versions are part of what gets built.
  hash.update(readFileSync(join(root, 'package-lock.json')))
  return hash.digest('hex')
}

const wanted = sourceHash()
if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === wanted && statSync(join(web, 'out', 'index.html'), { throwIfNoEntry: false }) != null) {
  process.exit(0)
}
process.stdout.write('building the dashboard (web/) ...\n')
const result = spawnSync('npm', ['run', 'build', '--workspace', 'web'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
})
if (result.status !== 0) {
  process.stderr.write('error: the dashboard build failed (see above)\n')
  process.exit(result.status ?? 1)
}
writeFileSync(stampPath, wanted)
