import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { expect } from 'chai'
import {
  HTTP_MAX_CONNECTIONS_PER_IP, MAX_SERVING_CHUNKS_PER_PEER, NATIVE_MAX_QUEUED_REQUESTS, SEND_STALL_TIMEOUT_MS
} from '../../node/config/constants.js'
import {
  MiB, TestNetwork, addFile, chiral, cleanEnv, describeResult, expectIntactDownload, randomFile, sleep, track, waitFor, waitForExit,
  type Daemon, type TestFile
} from './helpers/index.js'

/**
 * The bounds this test holds the seeder to, as ratios to its RSS when idle (~115 MiB): under
 * attack it may grow by at most three quarters, room for the 32 MiB of chunks serving may hold
 * at once (MAX_SERVING_CHUNKS) and V8's and the allocator's slack (before serving memory was
 * bounded these attacks grew it 2-6x); once the attackers are gone it must be back within a fifth
 * of idle, which leaves that slack but not the attack's buffers.
 */
const DURING_ATTACK_RATIO = 1.75
const AFTER_ATTACK_RATIO = 1.2
const ATTACK_MS = 5_000
const SETTLE_MS = 10_000

const UNREAD_NATIVE_REQUESTS = fileURLToPath(new URL('./fixtures/unread-native-requests.js', import.meta.url))

/**
 * Test double of the HTTP attack: `count` sockets with a 4 KiB receive buffer each ask for the
 * whole file and never read. After 2 s it prints how many the server answered (bytes are
 * waiting), closed, or left waiting, then `{"late":n,"ms":t}` whenever the number of those left
 * waiting that have been answered since changes (t: milliseconds since the first report).
 */
const UNREAD_HTTP_REQUESTS = `
import json, socket, sys, time
host, port, path, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
sockets = []
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    try:
        s.sendall(("GET %s HTTP/1.1\\r\\nHost: %s:%d\\r\\n\\r\\n" % (path, host, port)).encode())
    except OSError:
        pass
    sockets.append(s)
time.sleep(2)
def answered(s):
    try:
        return "answered" if s.recv(1, socket.MSG_PEEK) else "closed"
    except BlockingIOError:
        return "waiting"
    except OSError:
        return "closed"
counts = {"answered": 0, "closed": 0, "waiting": 0}
waiting = []
for s in sockets:
    s.setblocking(False)
    state = answered(s)
    counts[state] += 1
    if state == "waiting":
        waiting.append(s)
print(json.dumps(counts), flush=True)
started, late = time.time(), 0
while True:
    now = sum(1 for s in waiting if answered(s) == "answered")
    if now != late:
        late = now
        print(json.dumps({"late": late, "ms": int((time.time() - started) * 1000)}), flush=True)
    time.sleep(0.1)
`

async function rssMiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]
  if (kib == null) throw new Error(`no VmRSS for ${pid}`)
  return Number(kib) / 1024
}

/** The median of a few samples a moment apart. */
async function steadyRss (pid: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < 5; i++) {
    samples.push(await rssMiB(pid))
    await sleep(200)
  }
  return samples.sort((a, b) => a - b)[2] as number
}

/** The highest RSS seen over `ms`, sampled every 100 ms. */
async function peakRss (pid: number, ms: number): Promise<number> {
  let peak = 0
  for (const end = Date.now() + ms; Date.now() < end;) {
    peak = Math.max(peak, await rssMiB(pid))
    await sleep(100)
  }
  return peak
}

/** RSS once it has fallen to `bound`, or the lowest seen within SETTLE_MS. */
async function settledRss (pid: number, bound: number): Promise<number> {
  let lowest = Number.POSITIVE_INFINITY
  for (const end = Date.now() + SETTLE_MS; Date.now() < end;) {
    lowest = Math.min(lowest, await rssMiB(pid))
    if (lowest <= bound) break
    await sleep(250)
  }
  return lowest
}

interface Attacker {
  child: ChildProcess
  /** The first line it printed. */
  report: Record<string, number>
  /** Resolves with the first later line for which `accept` holds, or rejects after `timeoutMs`. */
  until: (accept: (line: Record<string, number>) => boolean, timeoutMs: number) => Promise<Record<string, number>>
}

/** Starts a child that prints JSON lines and resolves once it printed its first. */
async function startAttacker (command: string, args: string[]): Promise<Attacker> {
  const child = track(spawn(command, args, { env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] }))
  const lines: Array<Record<string, number>> = []
  let waiters: Array<() => void> = []
  let pending = ''
  let stderr = ''
  child.stderr?.on('data', (piece: Buffer) => { stderr += piece.toString('utf8') })
  child.stdout?.on('data', (piece: Buffer) => {
    pending += piece.toString('utf8')
    for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
      lines.push(JSON.parse(pending.slice(0, newline)) as Record<string, number>)
      pending = pending.slice(newline + 1)
    }
    for (const wake of waiters) wake()
    waiters = []
  })
  const until = async (accept: (line: Record<string, number>) => boolean, timeoutMs: number, from = 1): Promise<Record<string, number>> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = lines.slice(from).find(accept)
      if (found != null) return found
      if (child.exitCode != null) throw new Error(`attacker exited (${child.exitCode}): ${stderr}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`no such report within ${timeoutMs} ms; reports: ${JSON.stringify(lines)}; ${stderr}`)
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(left, 1_000))
        waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }
  const report = await until(() => true, 30_000, 0)
  return { child, report, until }
}

async function kill (child: ChildProcess): Promise<void> {
  if (child.exitCode != null || child.signalCode != null) return
  child.kill('SIGKILL')
  await waitForExit(child, 10_000)
}

describe('serving memory under peers that never read (separate processes)', function () {
  this.timeout(120_000)
  const net = new TestNetwork()
  let seeder: Daemon
  let dir: string
  let file: TestFile
  let bytes: Buffer
  let cid: string
  let idle: number

  before(async function () {
    dir = await net.tempDir('files')
    seeder = await net.start('seeder')
    file = await randomFile(dir, 'free.bin', 64 * MiB)
    cid = await addFile(seeder.home, file.path)
    bytes = await readFile(file.path)
    await sleep(1_000)
    idle = await steadyRss(seeder.pid)
  })
  after(async function () { await net.cleanup() })

  /** One MiB of the file over HTTP, checked. */
  async function fetchRange (index: number): Promise<void> {
    const response = await fetch(`${seeder.httpUrl}/chiral/v1/files/${cid}`, {
      headers: { range: `bytes=${index * MiB}-${(index + 1) * MiB - 1}` },
      signal: AbortSignal.timeout(SEND_STALL_TIMEOUT_MS + 10_000)
    })
    expect(response.status).to.equal(206)
    const range = Buffer.from(await response.arrayBuffer())
    expect(range.equals(bytes.subarray(index * MiB, (index + 1) * MiB)), `range ${index}`).to.equal(true)
  }

  /**
   * Runs an attack: RSS during it (and `meanwhile`) and after the attacker is killed, both
   * against the bounds.
   */
  async function underAttack (label: string, attacker: ChildProcess, meanwhile?: () => Promise<void>): Promise<void> {
    let summary: string
    try {
      const during = await peakRss(seeder.pid, ATTACK_MS)
      summary = `${label}: seeder RSS idle ${idle.toFixed(0)} MiB, peak ${during.toFixed(0)} MiB during the attack`
      console.log(`      ${summary}`)
      expect(during, summary).to.be.below(idle * DURING_ATTACK_RATIO)
      await meanwhile?.()
    } finally {
      await kill(attacker)
    }
    const after = await settledRss(seeder.pid, idle * AFTER_ATTACK_RATIO)
    console.log(`      ${label}: ${after.toFixed(0)} MiB after`)
    expect(after, `${summary}, ${after.toFixed(0)} MiB after`).to.be.below(idle * AFTER_ATTACK_RATIO)
    expect(seeder.running, 'the seeder survived').to.equal(true)
  }

  it('one native stream carrying 600 chunk requests whose replies are never read', async function () {
    const { child, report, until } = await startAttacker(process.execPath, [UNREAD_NATIVE_REQUESTS, JSON.stringify({
      seeder: seeder.bootstrapAddress, cid, chunks: 64, peers: 1, streams: 1, requests: 600
    })])
    expect(report.opened).to.equal(1)
    await underAttack('1 stream x 600 requests', child, async () => {
      // More requests queued than a stream may have: the seeder reset it at once.
      expect((await until(line => line.reset === 1, 1_000)).ms).to.be.below(1_000)
    })
  })

  it('peers that grant themselves huge windows, open many native streams, ask on each and stop reading their connections', async function () {
    // 5 peers x 12 streams x 2 requests: 120 chunks asked for, more than any one peer or all of
    // them may have read at once, with the window for all; then their sockets take nothing more.
    const { child, report } = await startAttacker(process.execPath, [UNREAD_NATIVE_REQUESTS, JSON.stringify({
      seeder: seeder.bootstrapAddress, cid, chunks: 64, peers: 5, streams: 12, requests: 2, forgeWindow: true, block: true
    })])
    expect(report.opened).to.equal(60)
    const started = Date.now()
    await underAttack('5 peers x 12 streams x 2 requests, not reading their sockets', child, async () => {
      // An honest request is still served, and the connections, which take nothing, are closed
      // SEND_STALL_TIMEOUT_MS after they stopped at the latest (libp2p's pings may fail first).
      await fetchRange(0)
      await waitFor('the seeder to close the attackers\' connections', async () => (await seeder.status()).connectedPeers === 0, { timeoutMs: SEND_STALL_TIMEOUT_MS + 10_000, intervalMs: 250 })
      expect(Date.now() - started, 'closed after').to.be.below(SEND_STALL_TIMEOUT_MS + 5_000)
    })
  })

  it('200 HTTP connections with 4 KiB receive buffers asking for the whole file and never reading', async function () {
    const url = new URL(seeder.httpUrl)
    const { child, report } = await startAttacker('python3', ['-c', UNREAD_HTTP_REQUESTS, url.hostname, url.port, `/chiral/v1/files/${cid}`, '200'])
    await underAttack('200 HTTP connections', child)
    // One address: connections over its cap closed at once, and only its slots' worth answered.
    expect(report.closed, JSON.stringify(report)).to.be.at.least(200 - HTTP_MAX_CONNECTIONS_PER_IP)
    expect(report.answered, JSON.stringify(report)).to.be.at.most(MAX_SERVING_CHUNKS_PER_PEER)
  })

  it(`cuts off a native stream and an HTTP response that take nothing for ${SEND_STALL_TIMEOUT_MS / 1000} s`, async function () {
    // One peer more than its slots' worth of streams, one address more than its slots' worth of
    // connections: each waits for the slot of one cut off.
    const url = new URL(seeder.httpUrl)
    // Four requests each (as many as a stream may queue): more than its window lets through.
    const native = await startAttacker(process.execPath, [UNREAD_NATIVE_REQUESTS, JSON.stringify({
      seeder: seeder.bootstrapAddress, cid, chunks: 64, peers: 1, streams: MAX_SERVING_CHUNKS_PER_PEER + 1, requests: NATIVE_MAX_QUEUED_REQUESTS
    })])
    const http = await startAttacker('python3', ['-c', UNREAD_HTTP_REQUESTS, url.hostname, url.port, `/chiral/v1/files/${cid}`, String(MAX_SERVING_CHUNKS_PER_PEER + 1)])
    try {
      expect(http.report).to.deep.equal({ answered: MAX_SERVING_CHUNKS_PER_PEER, closed: 0, waiting: 1 })
      const [reset, late] = await Promise.all([
        native.until(line => (line.reset ?? 0) >= MAX_SERVING_CHUNKS_PER_PEER, SEND_STALL_TIMEOUT_MS + 10_000),
        http.until(line => line.late === 1, SEND_STALL_TIMEOUT_MS + 10_000)
      ])
      // Both clocks started when the attackers reported, a moment after they stopped taking bytes.
      expect(reset.ms, 'native streams reset after').to.be.within(SEND_STALL_TIMEOUT_MS - 3_000, SEND_STALL_TIMEOUT_MS + 5_000)
      expect(late.ms, 'HTTP request answered after').to.be.within(SEND_STALL_TIMEOUT_MS - 4_000, SEND_STALL_TIMEOUT_MS + 5_000)
    } finally {
      await kill(native.child)
      await kill(http.child)
    }
  })

  it('serves honest requests in full afterwards, over both transports', async function () {
    // More ranges at once than one address gets slots for: the extra ones wait for a slot.
    await Promise.all(Array.from({ length: 12 }, async (_, index) => { await fetchRange(index) }))

    const downloader = await net.start('downloader', { bootstrap: [seeder.bootstrapAddress] })
    await downloader.waitForPeers(1)
    const output = join(dir, 'free.out')
    const result = await chiral(downloader.home, ['get', cid, '-o', output], { timeoutMs: 60_000 })
    expect(result.code, describeResult(result)).to.equal(0)
    await expectIntactDownload(output, file, cid)
  })
})
