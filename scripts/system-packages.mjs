#!/usr/bin/env node
// The first step of `npm test`, before anything is built: makes sure the system packages the tests
// need (scripts/system-packages.txt) are installed. Missing ones are installed with apt-get when
// this runs as root; otherwise it stops at once with one line naming them. Plain JavaScript with no
// dependencies, so it runs before `npm run build`; when everything is there it starts no process.
import { spawnSync } from 'node:child_process'
import { accessSync, constants, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import process from 'node:process'
import { URL, fileURLToPath } from 'node:url'

/** Test hook (test/node/system-packages.test.ts): check this list instead of scripts/system-packages.txt. */
const TEST_LIST_ENV = 'CHIRAL_TEST_SYSTEM_PACKAGES_LIST'
const LIST = process.env[TEST_LIST_ENV] ?? fileURLToPath(new URL('system-packages.txt', import.meta.url))

/** Lines "package program[|program...]  # comment"; returns [{ name, programs }]. */
function readList (path) {
  return readFileSync(path, 'utf8').split('\n')
    .map(line => line.replace(/#.*/, '').trim().split(/\s+/))
    .filter(fields => fields[0] !== '')
    .map(([name, programs = '']) => ({ name, programs: programs.split('|').filter(p => p !== '') }))
}

function executable (path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** The program's path: an absolute path as is, `$VAR` as the path it holds, a name looked up on PATH. */
function findProgram (program) {
  const path = program.startsWith('$') ? process.env[program.slice(1)] : program
  if (path == null || path === '') return undefined
  if (isAbsolute(path)) return executable(path) ? path : undefined
  return (process.env.PATH ?? '').split(delimiter).filter(dir => dir !== '').map(dir => join(dir, path)).find(executable)
}

/** Packages with none of their programs found and not installed by dpkg's account (one dpkg-query for all). */
function missingPackages (packages) {
  const unseen = packages.filter(pkg => !pkg.programs.some(program => findProgram(program) != null))
  if (unseen.length === 0) return []
  const dpkg = findProgram('dpkg-query')
  if (dpkg == null) return unseen.map(pkg => pkg.name)
  const query = spawnSync(dpkg, ['-W', '-f=${Package} ${db:Status-Status}\\n', ...unseen.map(pkg => pkg.name)], { encoding: 'utf8' })
  const installed = new Set((query.stdout ?? '').split('\n').map(line => line.split(' ')).filter(([, status]) => status === 'installed').map(([name]) => name))
  return unseen.filter(pkg => !installed.has(pkg.name)).map(pkg => pkg.name)
}

/** Debian's hook that invoke-rc.d asks before starting a service; exit status 101 means "not now". */
const POLICY_RC = '/usr/sbin/policy-rc.d'

function writePolicy () {
  try {
    writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 })
    return true
  } catch {
    return false
  }
}

function stop (message) {
  process.stderr.write(`${message}\n`)
  process.exit(1)
}

const packages = readList(LIST)
const missing = missingPackages(packages)
if (missing.length === 0) process.exit(0)

const names = missing.join(' ')
const aptGet = findProgram('apt-get')
const root = process.getuid?.() === 0
if (aptGet == null) stop(`npm test needs these system packages, which are missing: ${names} (Debian names; install them with this system's package manager)`)
if (!root) stop(`npm test needs these system packages, which are missing: ${names} (install them as root: apt-get install -y ${names}; npm test does it when run as root)`)

process.stderr.write(`installing the system packages the tests need: ${names}\n`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
// Packages such as nginx start a system service when installed; the tests and the bench run their
// own instances on loopback, so while apt-get runs, Debian's policy hook refuses service starts.
const ownPolicy = !existsSync(POLICY_RC) && writePolicy()
let failure
for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...missing]]) {
  const result = spawnSync(aptGet, args, { stdio: ['ignore', 'inherit', 'inherit'], env })
  if (result.status !== 0) {
    failure = `apt-get ${args[0]} ${result.error?.message ?? `exited ${result.status ?? result.signal}`}`
    break
  }
}
if (ownPolicy) rmSync(POLICY_RC, { force: true })
if (failure != null) stop(`npm test could not install the system packages it needs: ${names} (${failure})`)
const still = missingPackages(packages)
if (still.length > 0) stop(`npm test needs these system packages, still missing after apt-get install: ${still.join(' ')}`)
