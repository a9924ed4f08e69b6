import '../util/node20-compat.js'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { ping, type Ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { webSockets } from '@libp2p/websockets'
import { createLibp2p, type Libp2p } from 'libp2p'
import { DHT_PROTOCOL, RECORD_NAMESPACE } from '../config/constants.js'
import { noiseCrypto } from './noise-crypto.js'
import { selectFileRecord, validateFileRecord } from './records.js'

export type ChiralLibp2p = Libp2p<{ dht: KadDHT, ping: Ping, identify: unknown }>

export interface HostOptions {
  privateKey: PrivateKey
  listen: string[]
  announce: string[]
  bootstrap: string[]
  /** Peers refused at the connection level (banned for misbehaviour). */
  isBanned?: (peerId: string) => boolean
}

/**
 * The libp2p host: TCP and WebSockets, noise, yamux, identify, ping and a Kademlia DHT on a
 * Chiral-only protocol so it never mixes with the public IPFS DHT. Addresses are not filtered
 * by scope because Chiral networks also run on LANs and loopback.
 */
export async function createHost (options: HostOptions): Promise<ChiralLibp2p> {
  return await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: options.listen, announce: options.announce },
    connectionGater: {
      denyDialPeer: peer => options.isBanned?.(peer.toString()) ?? false,
      denyInboundEncryptedConnection: peer => options.isBanned?.(peer.toString()) ?? false
    },
    transports: [tcp(), webSockets()],
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux({
      // Larger windows and frames keep a 1 MiB chunk from stalling on flow control.
      maxMessageSize: 256 * 1024,
      initialStreamWindowSize: 2 * 1024 * 1024,
      maxStreamWindowSize: 16 * 1024 * 1024
    })],
    peerDiscovery: options.bootstrap.length > 0 ? [bootstrap({ list: options.bootstrap })] : [],
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        validators: { [RECORD_NAMESPACE]: validateFileRecord },
        selectors: { [RECORD_NAMESPACE]: selectFileRecord }
      })
    }
  })
}
