import type { PeerId } from '@libp2p/interface'
import { MAX_TRANSFER_HEADER_BYTES, TRANSFER_PROTOCOL } from '../../config/constants.js'
import type { ChiralLibp2p } from '../../p2p/host.js'
import { SourceError, type ChunkSource } from '../../transfer/source.js'
import { FrameReader, frameJson } from '../../p2p/framing.js'
import type { ResponseHeader, TransferRequest } from './wire.js'

/** Fetches from a seeder over the node's own libp2p protocol. */
export class NativeSource implements ChunkSource {
  readonly transport = 'native' as const
  readonly id: string
  readonly peerId: string

  constructor (private readonly host: ChiralLibp2p, private readonly peer: PeerId, private readonly cid: string) {
    this.peerId = peer.toString()
    this.id = `${this.peerId}/native`
  }

  async fetchManifest (maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
    return await this.request({ op: 'manifest', cid: this.cid }, maxBytes, signal)
  }

  async fetchChunk (index: number, _offset: number, length: number, signal: AbortSignal): Promise<Uint8Array> {
    const body = await this.request({ op: 'chunk', cid: this.cid, index }, length, signal)
    if (body.length !== length) throw new SourceError(`chunk ${index} has ${body.length} bytes, expected ${length}`, true)
    return body
  }

  private async request (request: TransferRequest, maxBody: number, signal: AbortSignal): Promise<Uint8Array> {
    const stream = await this.host.dialProtocol(this.peer, TRANSFER_PROTOCOL, { signal })
    const onAbort = (): void => { stream.abort(new Error('request aborted')) }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      await stream.sink([frameJson(request)])
      const reader = new FrameReader(stream.source)
      const header = await reader.readJson(MAX_TRANSFER_HEADER_BYTES) as ResponseHeader
      if (header?.status !== 'ok') {
        throw new SourceError(`seeder answered ${String(header?.status)}: ${String((header as { message?: unknown })?.message ?? '')}`, header?.status === 'not-found')
      }
      if (!Number.isSafeInteger(header.length) || header.length < 0 || header.length > maxBody) {
        throw new SourceError(`seeder announced ${String(header.length)} bytes, limit ${maxBody}`, true)
      }
      return await reader.readBody(header.length)
    } finally {
      signal.removeEventListener('abort', onAbort)
      await stream.close().catch(() => {})
    }
  }
}
