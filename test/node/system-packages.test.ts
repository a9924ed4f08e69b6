import { spawnSync } from 'node:child_process'
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { REPO_ROOT, cleanEnv, describeResult, run, type RunResult } from './helpers/index.js'

const CHECK = join(REPO_ROOT, 'scripts', 'system-packages.mjs')
/** The check's test hook: the package list to use instead of scripts/system-packages.txt. */
const LIST_ENV = 'CHIRAL_TEST_SYSTEM_PACKAGES_LIST'
const ABSENT = 'chiral-test-absent-package'
/** `nobody`, the unprivileged user the check runs as when the tests run as root. */
const NOBODY = 65534

const root = process.getuid?.() === 0
const setprivAvailable = spawnSync('setpriv', ['--version']).status === 0

describe('npm test: system packages', function () {
  this.timeout(120_000)
  let dir: string
  let list: string
  let checkRejected = false

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'chiral-system-packages-'))
    list = join(dir, 'packages.txt')
    // One package that is there (its program is this very node) and one that exists nowhere.
    await writeFile(list, `# test list\npresent-package  ${process.execPath}  # found\n${ABSENT}  chiral-test-absent-program\n`)
    // npm run as nobody needs a home it can write its cache and logs in.
    if (root) await chown(dir, NOBODY, NOBODY)
  })
  after(async function () { await rm(dir, { recursive: true, force: true }) })

  /** Runs `command args` as an unprivileged user: as is when the tests do not run as root, else through setpriv as nobody. */
  async function runUnprivileged (command: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
    if (!root) return await run(command, args, { env, cwd: REPO_ROOT })
    return await run('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', command, ...args], { env, cwd: REPO_ROOT })
  }

  /** An environment without the npm settings of the npm that may be running this suite (its cache is root's). */
  function childEnv (extra: Record<string, string>): NodeJS.ProcessEnv {
    const env = cleanEnv()
    for (const key of Object.keys(env)) if (/^npm_/i.test(key)) delete env[key]
    return { ...env, HOME: dir, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false', ...extra }
  }

  function expectOneLineNamingAbsent (result: RunResult): void {
    expect(result.code, describeResult(result)).to.not.equal(0)
    expect(result.code, describeResult(result)).to.not.equal(null)
    const lines = result.stderr.split('\n').filter(line => line.trim() !== '')
    expect(lines, `stderr: ${result.stderr}`).to.have.length(1)
    expect(lines[0]).to.include(ABSENT).and.not.include('present-package')
  }

  it('as a user that cannot install, stops with one line naming the missing package', async function () {
    if (root && !setprivAvailable) this.skip()
    const result = await runUnprivileged(process.execPath, [CHECK], childEnv({ [LIST_ENV]: list }))
    expectOneLineNamingAbsent(result)
    expect(result.stdout, describeResult(result)).to.equal('')
    expect(result.stderr).to.match(/missing: chiral-test-absent-package \(install them as root: apt-get install -y chiral-test-absent-package/)
    checkRejected = true
  })

  it('npm test stops on that line before it builds or tests anything', async function () {
    // Only once the check itself is known to stop: otherwise this would run the whole suite again.
    if (!checkRejected || (root && !setprivAvailable)) this.skip()
    const manifest = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
    expect(manifest.scripts.test, 'the check is the first step of npm test').to.match(/^node scripts\/system-packages\.mjs && /)
    const result = await runUnprivileged('npm', ['--silent', 'test'], childEnv({ [LIST_ENV]: list }))
    // Nothing but the check's line: no build output, no test reporter.
    expectOneLineNamingAbsent(result)
    expect(result.stdout, describeResult(result)).to.equal('')
  })

  it('without apt-get (even as root), stops with one line naming the missing package', async function () {
    const result = await run(process.execPath, [CHECK], { env: childEnv({ [LIST_ENV]: list, PATH: join(dir, 'empty-path') }) })
    expectOneLineNamingAbsent(result)
    expect(result.stderr).to.include("install them with this system's package manager")
  })

  it('passes silently when every package is there', async function () {
    const complete = join(dir, 'complete.txt')
    await writeFile(complete, `present-package  ${process.execPath}\n`)
    const result = await run(process.execPath, [CHECK], { env: childEnv({ [LIST_ENV]: complete }) })
    expect(result.code, describeResult(result)).to.equal(0)
    expect(result.stdout + result.stderr).to.equal('')
  })
})
