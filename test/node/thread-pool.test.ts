import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { expect } from 'chai'
import { poolThreadCount } from '../../node/native/thread-pool.js'

/** Names the pool in a child with the given environment and prints its threads' names. */
const NAMING_PROGRAM = `
const { namePoolThreads } = await import(${JSON.stringify(new URL('../../node/native/thread-pool.js', import.meta.url).href)})
const { readdirSync, readFileSync } = await import('node:fs')
namePoolThreads()
await new Promise(resolve => setTimeout(resolve, 300))
const names = readdirSync('/proc/self/task').map(tid => readFileSync('/proc/self/task/' + tid + '/comm', 'utf8').trim())
process.stdout.write(JSON.stringify(names))
`

async function threadNames (poolSize: string | undefined): Promise<string[]> {
  const env = { ...process.env }
  delete env.UV_THREADPOOL_SIZE
  if (poolSize != null) env.UV_THREADPOOL_SIZE = poolSize
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', NAMING_PROGRAM], { env, timeout: 10_000 })
  return JSON.parse(stdout) as string[]
}

describe('libuv pool thread names (no processes but a child node)', function () {
  it('reads UV_THREADPOOL_SIZE as libuv does', function () {
    expect(poolThreadCount({})).to.equal(4)
    expect(poolThreadCount({ UV_THREADPOOL_SIZE: '2' })).to.equal(2)
    expect(poolThreadCount({ UV_THREADPOOL_SIZE: '0' })).to.equal(1)
    expect(poolThreadCount({ UV_THREADPOOL_SIZE: 'many' })).to.equal(1)
    expect(poolThreadCount({ UV_THREADPOOL_SIZE: '7threads' })).to.equal(7)
    expect(poolThreadCount({ UV_THREADPOOL_SIZE: '5000' })).to.equal(1024)
    expect(poolThreadCount({ UV_THREADPOOL_SIZE: '-1' })).to.equal(1024)
  })

  for (const poolSize of [undefined, '2', '6']) {
    it(`names every thread of a pool of ${poolSize ?? 'the default'} and no other`, async function () {
      const names = await threadNames(poolSize)
      expect(names.filter(name => name === 'libuv-worker')).to.have.length(poolSize == null ? 4 : Number(poolSize))
      expect(names[0], 'the main thread keeps its name').to.equal('node')
    })
  }
})
