import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { expect } from 'chai'
import { CLI_PATH, REPO_ROOT, TestNetwork, cleanEnv, describeResult, run, type Daemon, type RunResult } from './helpers/index.js'

/** Preloaded into the CLI: logs the URL of every module it loads (test/node/fixtures/record-modules.ts). */
const RECORDER = pathToFileURL(fileURLToPath(new URL('./fixtures/record-modules.js', import.meta.url))).href

/** ls, status, peers and earnings in their plain form, which main.ts runs without the argument parser (quick.ts). */
const QUICK_COMMANDS = [['ls'], ['ls', '--json'], ['status'], ['status', '--json'], ['peers'], ['earnings'], ['earnings', '--json']]
/** Other commands that only send requests to the daemon and print the answer: parsed by commander. */
const PARSED_API_COMMANDS = [['limits'], ['wallet', 'balance'], ['wallet', 'history'], ['mine', 'status'], ['ls', '--help']]
/** The only package the parsed ones may load: the argument parser. */
const PARSER = 'commander'

/** Every package the project depends on but the parser: the chain, ethers, libp2p, Fastify, LevelDB, ... */
function heavyPackages (): string[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>, devDependencies: Record<string, string> }
  return [...Object.keys(manifest.dependencies), ...Object.keys(manifest.devDependencies)].filter(name => name !== PARSER)
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

  /** Fails unless the recorder saw the CLI start (so an empty log cannot pass for a light one) and no package but `allowed` loaded. */
  function expectOnly (args: string[], modules: string[], allowed: string[]): void {
    expect(modules.some(url => url.endsWith('/dist/node/cli/main.js')), `chiral ${args.join(' ')} loaded:\n${modules.join('\n')}`).to.equal(true)
    const loaded = loadedPackages(modules, [...heavyPackages(), PARSER]).filter(name => !allowed.includes(name))
    const firstOf = (name: string): string => modules.find(url => url.includes(`/node_modules/${name}/`)) ?? ''
    expect(loaded, `chiral ${args.join(' ')} loaded ${loaded.map(name => `${name} (${firstOf(name)})`).join(', ')}`).to.deep.equal([])
  }

  before(async function () {
    logs = await net.tempDir('module-logs')
    daemon = await net.start('api-only')
  })
  after(async function () { await net.cleanup() })

  for (const args of QUICK_COMMANDS) {
    it(`chiral ${args.join(' ')} loads no package at all, not even the argument parser`, async function () {
      const { result, modules } = await chiralRecorded(args)
      expect(result.code, describeResult(result)).to.equal(0)
      expectOnly(args, modules, [])
    })
  }

  for (const args of PARSED_API_COMMANDS) {
    it(`chiral ${args.join(' ')} loads no package but the argument parser`, async function () {
      const { result, modules } = await chiralRecorded(args)
      expect(result.code, describeResult(result)).to.equal(0)
      expectOnly(args, modules, [PARSER])
      expect(loadedPackages(modules, [PARSER]), 'went through the parser').to.deep.equal([PARSER])
    })
  }

  it('control: a command that needs the keystore (wallet address) does load ethers, and the recorder sees it', async function () {
    const { result, modules } = await chiralRecorded(['wallet', 'address'])
    expect(result.code, describeResult(result)).to.equal(0)
    expect(result.stdout).to.match(/^0x[0-9a-fA-F]{40}\n$/)
    expect(loadedPackages(modules, ['ethers'])).to.deep.equal(['ethers'])
  })
})
