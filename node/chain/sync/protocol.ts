import type { PeerId, Stream } from '@libp2p/interface'
import { FrameReader, frameBytes, frameJson } from '../../p2p/framing.js'

/**
 * Chain protocols on the node's libp2p host. Each request opens one stream:
 *   status:   -> {}                  <- StatusMessage
 *   blocks:   -> {start, count}      <- [u32 len][block RLP]... then the stream ends
 *   block:    -> {hash}              <- [u32 len][block RLP], or nothing if unknown
 *   announce: -> [u32 len][block RLP]   (no answer)
 *   tx:       -> [u32 len][tx bytes]    (no answer)
 */
export const CHAIN_PROTOCOLS = {
  status: '/chiral/chain/status/1.0.0',
  blocks: '/chiral/chain/blocks/1.0.0',
  block: '/chiral/chain/block/1.0.0',
  announce: '/chiral/chain/announce/1.0.0',
  tx: '/chiral/chain/tx/1.0.0'
} as const

export const MAX_BLOCKS_PER_REQUEST = 64
/** A 30M-gas block of calldata is under 2 MiB; nothing larger is read from a peer. */
export const MAX_BLOCK_BYTES = 2 * 1024 * 1024
export const MAX_TX_BYTES = 128 * 1024
export const MAX_CONTROL_BYTES = 1024

export interface StatusMessage {
  genesisHash: string
  headHash: string
  headNumber: string
  totalDifficulty: string
}

export interface Dialer {
  dialProtocol: (peer: PeerId, protocol: string, options: { signal: AbortSignal }) => Promise<Stream>
}

export async function requestJson (dialer: Dialer, peer: PeerId, protocol: string, request: unknown, signal: AbortSignal): Promise<FrameReader> {
  const stream = await dialer.dialProtocol(peer, protocol, { signal })
  signal.addEventListener('abort', () => { stream.abort(new Error('request aborted')) }, { once: true })
  await stream.sink([frameJson(request)])
  return new FrameReader(stream.source)
}

export async function push (dialer: Dialer, peer: PeerId, protocol: string, payload: Uint8Array, signal: AbortSignal): Promise<void> {
  const stream = await dialer.dialProtocol(peer, protocol, { signal })
  await stream.sink([frameBytes(payload)])
  await stream.close().catch(() => {})
}

export async function * readBlockFrames (reader: FrameReader, maxBlocks: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < maxBlocks; i++) {
    const frame = await reader.readFrame(MAX_BLOCK_BYTES, true)
    if (frame == null) return
    yield frame
  }
}
