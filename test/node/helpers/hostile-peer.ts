import '../../../node/util/node20-compat.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import type { Libp2p, Stream } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { pushable, type Pushable } from 'it-pushable'
import { createLibp2p } from 'libp2p'
import { TRANSFER_PROTOCOL } from '../../../node/config/constants.js'
import { FrameReader, frameJson } from '../../../node/p2p/framing.js'
import { PAYMENT_PROTOCOL } from '../../../node/payments/constants.js'
import { receiptFrame } from '../../../node/payments/protocol.js'
import type { SignedReceipt } from '../../../node/payments/receipts.js'

export interface SessionAnswer {
  type: 'accepted' | 'refused'
  credential?: string
  receiptedAmount?: string
  code?: string
  message?: string
  retryable?: boolean
}

export interface ReceiptAnswer { type: 'ack', cumulativeAmount: string, error?: string }

/**
 * Test double of a hostile leecher: a real libp2p node with its own fresh peer id that speaks
 * the payment and native transfer protocols by hand, so a test can name any escrow, send any
 * receipt to any session and count what a seeder hands out without being paid. It never signs
 * anything it is not told to.
 */
export class HostilePeer {
  private constructor (private readonly node: Libp2p) {}

  static async start (): Promise<HostilePeer> {
    const node = await createLibp2p({
      addresses: { listen: [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()]
    })
    return new HostilePeer(node)
  }

  get peerId (): string {
    return this.node.peerId.toString()
  }

  async stop (): Promise<void> {
    await this.node.stop()
  }

  /** Opens a payment session on `escrowId` and keeps its stream for receipts. */
  async openSession (seeder: string, cid: string, escrowId: bigint, pricePerMiB: bigint): Promise<HostileSession> {
    const stream = await this.node.dialProtocol(multiaddr(seeder), PAYMENT_PROTOCOL)
    const session = new HostileSession(stream)
    session.answer = await session.request({ type: 'open', cid, escrowId: escrowId.toString(), pricePerMiB: pricePerMiB.toString() }) as SessionAnswer
    return session
  }

  /**
   * Asks for chunks `first`, `first + 1`, ... over the native protocol, one request at a time on
   * one stream, until the seeder refuses or `count` chunks came; returns the bytes received.
   */
  async takeNativeChunks (seeder: string, cid: string, first: number, count: number): Promise<{ bytes: number, refusal?: string }> {
    const stream = await this.node.dialProtocol(multiaddr(seeder), TRANSFER_PROTOCOL)
    const requests = pushable<Uint8Array>()
    void stream.sink(requests).catch(() => {})
    const reader = new FrameReader(stream.source)
    let bytes = 0
    try {
      for (let index = first; index < first + count; index++) {
        requests.push(frameJson({ op: 'chunk', cid, index }))
        const header = await reader.readJson(4096) as { status: string, length?: number, message?: string }
        if (header.status !== 'ok') return { bytes, refusal: `${header.status}: ${header.message ?? ''}` }
        bytes += (await reader.readBody(header.length ?? 0)).length
      }
      return { bytes }
    } finally {
      requests.end()
      await stream.close().catch(() => {})
    }
  }
}

/** One payment stream of a HostilePeer. */
export class HostileSession {
  answer?: SessionAnswer
  private readonly out: Pushable<Uint8Array> = pushable()
  private readonly reader: FrameReader

  constructor (private readonly stream: Stream) {
    void stream.sink(this.out).catch(() => {})
    this.reader = new FrameReader(stream.source)
  }

  get credential (): string {
    if (this.answer?.credential == null) throw new Error(`no session: ${JSON.stringify(this.answer)}`)
    return this.answer.credential
  }

  async request (message: unknown): Promise<unknown> {
    this.out.push(frameJson(message))
    return await this.reader.readJson(4096)
  }

  async sendReceipt (receipt: SignedReceipt): Promise<ReceiptAnswer> {
    return await this.request(receiptFrame(receipt)) as ReceiptAnswer
  }

  async close (): Promise<void> {
    this.out.end()
    await this.stream.close().catch(() => {})
  }
}

/**
 * Range requests for chunks `first`, `first + 1`, ... of a file over the seeder's public HTTP
 * transport with `credential` as bearer token, until one is refused; returns the bytes received.
 */
export async function takeHttpChunks (httpUrl: string, cid: string, credential: string, first: number, count: number, chunkSize = 1024 * 1024): Promise<{ bytes: number, refusal?: number, message?: string }> {
  let bytes = 0
  for (let index = first; index < first + count; index++) {
    const response = await fetch(`${httpUrl}/chiral/v1/files/${cid}`, {
      headers: { authorization: `Bearer ${credential}`, range: `bytes=${index * chunkSize}-${(index + 1) * chunkSize - 1}` }
    })
    const body = Buffer.from(await response.arrayBuffer())
    if (response.status !== 206) {
      const message = (JSON.parse(body.toString('utf8')) as { message?: string }).message
      return { bytes, refusal: response.status, message }
    }
    bytes += body.length
  }
  return { bytes }
}
