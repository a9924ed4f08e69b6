import { expect } from 'chai'
import { RPC_EXECUTION_BUDGET_MS } from '../../../node/config/constants.js'
import { MiB, TestNetwork, addFile, randomFile, type Daemon } from '../helpers/index.js'

/** JUMPDEST PUSH1 0 JUMP: init code that loops until it runs out of gas or time. */
const LOOP = '0x5b600056'
/**
 * Most a concurrent request may wait while calls loop. The node runs EVM code in slices of
 * RPC_EXECUTION_SLICE_MS (10 ms); this leaves room for a loaded CI machine. Without slicing a
 * looping call held eth_chainId for over a second and a HEAD for several.
 */
const MAX_STALL_MS = 500

interface RpcReply { id?: unknown, result?: unknown, error?: { code: number, message: string } }

async function rpc (url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return await response.json()
}

function loopingCall (id: number): unknown {
  return { jsonrpc: '2.0', id, method: 'eth_call', params: [{ data: LOOP }, 'latest'] }
}

/** Runs `work` while timing an eth_chainId and a public HTTP HEAD every 25 ms; the slowest of each. */
async function whileProbing<T> (rpcUrl: string, headUrl: string, work: () => Promise<T>): Promise<{ result: T, chainIdMs: number, headMs: number, probes: number }> {
  let done = false
  let chainIdMs = 0
  let headMs = 0
  let probes = 0
  const probe = async (): Promise<void> => {
    while (!done) {
      const started = performance.now()
      const reply = await rpc(rpcUrl, { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) as RpcReply
      expect(reply.result).to.be.a('string')
      const between = performance.now()
      const head = await fetch(headUrl, { method: 'HEAD' })
      expect(head.status).to.equal(200)
      chainIdMs = Math.max(chainIdMs, between - started)
      headMs = Math.max(headMs, performance.now() - between)
      probes++
      await new Promise(resolve => setTimeout(resolve, 25))
    }
  }
  const probing = probe()
  try {
    const result = await work()
    return { result, chainIdMs, headMs, probes }
  } finally {
    done = true
    await probing
  }
}

describe('eth_call execution budget (looping calls against a daemon)', function () {
  this.timeout(120_000)
  const net = new TestNetwork()
  let node: Daemon
  let rpcUrl: string
  let headUrl: string

  before(async function () {
    node = await net.start('rpc-budget')
    const dir = await net.tempDir('files')
    const file = await randomFile(dir, 'file.bin', MiB)
    const cid = await addFile(node.home, file.path)
    const status = await node.ok<{ urls: { rpc: string, http: string[] } }>('GET', '/api/status')
    rpcUrl = status.urls.rpc
    headUrl = `${status.urls.http[0] as string}/chiral/v1/files/${cid}`
  })
  after(async function () { await net.cleanup() })

  it('an eth_call of an infinite loop fails clearly and other requests are answered meanwhile', async function () {
    const { result, chainIdMs, headMs, probes } = await whileProbing(rpcUrl, headUrl, async () => await rpc(rpcUrl, loopingCall(7)) as RpcReply)
    expect(result.error?.code).to.equal(-32000)
    expect(result.error?.message).to.match(/out of gas|execution aborted \(timeout = \d+s\)/)
    expect(probes).to.be.greaterThan(0)
    expect(chainIdMs, 'slowest concurrent eth_chainId (ms)').to.be.lessThan(MAX_STALL_MS)
    expect(headMs, 'slowest concurrent HTTP HEAD (ms)').to.be.lessThan(MAX_STALL_MS)
  })

  it('a batch of looping calls shares one time budget and aborts with a timeout error', async function () {
    const started = performance.now()
    const { result, chainIdMs, headMs } = await whileProbing(rpcUrl, headUrl, async () => await rpc(rpcUrl, Array.from({ length: 10 }, (_, i) => loopingCall(i))) as RpcReply[])
    const elapsed = performance.now() - started
    expect(result).to.have.length(10)
    for (const reply of result) expect(reply.error?.code).to.equal(-32000)
    expect(result.at(-1)?.error?.message).to.equal(`execution aborted (timeout = ${RPC_EXECUTION_BUDGET_MS / 1000}s)`)
    // One budget for the batch, plus the probes' share of the CPU and slack for a loaded machine.
    expect(elapsed).to.be.lessThan(RPC_EXECUTION_BUDGET_MS * 2)
    expect(chainIdMs, 'slowest concurrent eth_chainId (ms)').to.be.lessThan(MAX_STALL_MS)
    expect(headMs, 'slowest concurrent HTTP HEAD (ms)').to.be.lessThan(MAX_STALL_MS)
  })

  it('an ordinary eth_call still answers', async function () {
    // Init code returning 32 bytes of memory: PUSH1 42 PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN.
    const reply = await rpc(rpcUrl, { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ data: '0x602a60005260206000f3' }, 'latest'] }) as RpcReply
    expect(reply.result).to.equal(`0x${'2a'.padStart(64, '0')}`)
  })
})
