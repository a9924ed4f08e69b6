#!/usr/bin/env node
// Builds the node's native addon (node/native) into dist/ with node-gyp,
// unless its sources are unchanged since the last build. Plain JavaScript: it runs before tsc.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const source = join(root, 'node', 'native')
const target = join(root, 'dist', 'node', 'native', 'chiral_native.node')
const stampPath = `${target}.source-hash`

function sourceHash () {
  const hash = createHash('sha256').update(process.version)
  for (const name of readdirSync(source).filter(name => /\.(c|h|gyp)$/.test(name)).sort()) {
    hash.update(name).update('\0').update(readFileSync(join(source, name))).update('\0')
  }
  return hash.digest('hex')
}

/** npm hands its bundled node-gyp to scripts it runs; outside npm, the copy next to this Node. */
function nodeGyp () {
  return process.env.npm_config_node_gyp ?? join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
}

/** Node's own headers when they are installed beside it, so nothing is downloaded. */
function nodeDir () {
  if (process.env.npm_config_nodedir != null) return process.env.npm_config_nodedir
  const prefix = join(dirname(process.execPath), '..')
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined
}

const wanted = sourceHash()
if (existsSync(target) && existsSync(stampPath) && readFileSync(stampPath, 'utf8') === wanted) process.exit(0)
process.stdout.write('building the native addon (node/native) ...\n')
const dir = nodeDir()
const result = spawnSync(process.execPath, [nodeGyp(), 'rebuild', '--loglevel=warn', '-C', source, ...(dir == null ? [] : [`--nodedir=${dir}`])], { stdio: 'inherit' })
if (result.status !== 0) {
  process.stderr.write('error: building node/native failed (node-gyp needs python3, make and a C compiler)\n')
  process.exit(result.status ?? 1)
}
mkdirSync(dirname(target), { recursive: true })
copyFileSync(join(source, 'build', 'Release', 'chiral_native.node'), target)
writeFileSync(stampPath, wanted)
