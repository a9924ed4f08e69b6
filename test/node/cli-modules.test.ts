import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { expect } from 'chai'
import { CLI_PATH, REPO_ROOT, TestNetwork, cleanEnv, describeResult, run, type Daemon, type RunResult } from './helpers/index.js'

/** Preloaded into the CLI: logs the URL of every module it loads (test/node/fixtures/record-modules.ts). */
const RECORDER = pathToFileURL(fileURLToPath(new URL('./fixtures/record-modules.js', import.meta.url))).href

/** The only package the commands that just talk to the daemon may load: their argument parser. */
const LIGHT_PACKAGES = new Set(['commander'])

/** Commands that only send requests to the daemon and print the answer. */
const API_ONLY_COMMANDS = [
  ['ls'], ['ls', '--json'], ['status'], ['peers'], ['earnings'], ['limits'], ['wallet', 'balance'], ['wallet', 'history'], ['mine', 'status']
]

/** Every package the project depends on, except the light ones: the chain, ethers, libp2p, Fastify, LevelDB, ... */
function heavyPackages (): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>, devDependencies: Record<string, string> }
  return [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)].filter(name => !LIGHT_PACKAGES.has(name))
}

describe('CLI: commands that only talk to the daemon load only what they need', function () {
  this.timeout(120_000)
  const net = new TestNetwork()
  let daemon: Daemon
  let logs: string
  let runs = 0

  /** Runs the real CLI with the recorder preloaded; returns its result and the modules it loaded. */
  async function chiralRecorded (args: string[]): Promise<{ result: RunResult, modules: string[] }> {
    const log = join(logs, `modules-${runs++}.log`)
    const result = await run(process.execPath, ['--import', RECORDER, CLI_PATH, '--home', daemon.home, ...args], {
      env: cleanEnv({ CHIRAL_TEST_MODULE_LOG: log }),
      timeoutMs: 60_000
    })
    const modules = (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(line => line !== '')
    return { result, modules }
  }

  const loadedPackages = (modules: string[], names: string[]): string[] =>
    names.filter(name => modules.some(url => url.includes(`/node_modules/${name}/`)))

  before(async function () {
    logs = await net.tempDir('module-logs')
    daemon = await net.start('api-only')
  })
  after(async function () { await net.cleanup() })

  for (const args of API_ONLY_COMMANDS) {
    it(`chiral ${args.join(' ')} loads no package but commander`, async function () {
      const { result, modules } = await chiralRecorded(args)
      expect(result.code, describeResult(result)).to.equal(0)
      // The recorder saw the CLI itself, so an empty log cannot pass for a light one.
      expect(modules.some(url => url.endsWith('/dist/node/cli/program.js')), modules.join('\n')).to.equal(true)
      expect(loadedPackages(modules, [...LIGHT_PACKAGES]), 'commander is loaded through the recorder').to.deep.equal([...LIGHT_PACKAGES])
      const heavy = loadedPackages(modules, heavyPackages())
      const firstOf = (name: string): string => modules.find(url => url.includes(`/node_modules/${name}/`)) ?? ''
      expect(heavy, `chiral ${args.join(' ')} loaded ${heavy.map(name => `${name} (${firstOf(name)})`).join(', ')}`).to.deep.equal([])
    })
  }

  it('control: a command that needs the keystore (wallet address) does load ethers, and the recorder sees it', async function () {
    const { result, modules } = await chiralRecorded(['wallet', 'address'])
    expect(result.code, describeResult(result)).to.equal(0)
    expect(result.stdout).to.match(/^0x[0-9a-fA-F]{40}\n$/)
    expect(loadedPackages(modules, ['ethers'])).to.deep.equal(['ethers'])
  })
})
