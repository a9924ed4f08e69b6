/**
 * Every tunable number of the node lives here, so a reader finds one place per constant.
 */

/**
 * 1 MiB chunks: a 1 GiB file is 1024 chunks (a 32 KiB manifest), large enough that per-request
 * overhead stays under 1% at loopback speeds, small enough that a slow or dishonest seeder costs
 * at most one MiB of rework and that payment receipts (later) stay far below 1% of data bytes.
 * It is also a valid BitTorrent piece length and a whole number of SHA-256 blocks, which chained
 * chunk states (see content/manifest.ts) need.
 */
export const CHUNK_SIZE = 1024 * 1024

export const DEFAULT_HOME_DIRNAME = '.chiral'
export const CONFIG_FILENAME = 'config.json'
export const API_TOKEN_FILENAME = 'api-token'
export const API_ENDPOINT_FILENAME = 'api.json'
export const DATABASE_DIRNAME = 'db'
export const PEER_KEY_FILENAME = 'peer.key'

export const DEFAULT_P2P_TCP_PORT = 30480
export const DEFAULT_P2P_WS_PORT = 30481
export const DEFAULT_HTTP_PORT = 30482
export const DEFAULT_API_PORT = 30483
export const DEFAULT_RPC_PORT = 8545
export const LOOPBACK = '127.0.0.1'

export const DHT_PROTOCOL = '/chiral/kad/1.0.0'
export const TRANSFER_PROTOCOL = '/chiral/transfer/1.0.0'
export const RECORD_PROTOCOL = '/chiral/record/1.0.0'
/** A node with no connection at all dials its bootstrap addresses again this often. */
export const BOOTSTRAP_REDIAL_INTERVAL_MS = 5_000
export const RECORD_NAMESPACE = 'chiral'
export const RECORD_SIGNING_DOMAIN = 'chiral/file-record/v2'
export const MANIFEST_DOMAIN = 'chiral/manifest/v2'

/** A signed file record lives this long; it is republished at half its life. */
export const DEFAULT_RECORD_TTL_SECONDS = 6 * 60 * 60
export const MAX_RECORD_BYTES = 8 * 1024
export const MAX_FILE_NAME_BYTES = 255
export const MAX_RECORD_ADDRESSES = 16
/** Transports one record may list, including ones this build does not know, and endpoints per transport. */
export const MAX_RECORD_TRANSPORTS = 16
export const MAX_TRANSPORT_ENDPOINTS = 4
export const MAX_TRANSPORT_ENDPOINT_CHARS = 512

/** Largest file the node accepts from the network: 4 TiB keeps manifests under 128 MiB. */
export const MAX_FILE_SIZE = 4 * 1024 ** 4

export const MAX_TRANSFER_REQUEST_BYTES = 1024
export const MAX_TRANSFER_HEADER_BYTES = 1024
export const MAX_API_BODY_BYTES = 64 * 1024

/** Scheduler tuning: concurrency per source grows additively and halves on failure (AIMD). */
export const INITIAL_SOURCE_CONCURRENCY = 2
export const MAX_SOURCE_CONCURRENCY = 16
/**
 * Caps buffered chunk memory at 8 MiB whatever the file size or seeder count. Eight 1 MiB chunks
 * keep four loopback seeders streaming; each more costs a MiB of buffers and of received bytes
 * waiting for them, and on the native transport the heap churn grows with it.
 */
export const MAX_TOTAL_INFLIGHT_CHUNKS = 8
export const CHUNK_REQUEST_TIMEOUT_MS = 30_000
export const MAX_SOURCE_FAILURES = 5
export const DISCOVERY_TIMEOUT_MS = 10_000
/**
 * How long a lookup keeps collecting seeders after the first one is verified: long enough for
 * seeders answering in the same round trip to join the manifest vote, short enough not to show
 * in time to first byte; seeders answering later still join the running download.
 */
export const DISCOVERY_GRACE_MS = 10
/** Connected peers asked directly for their record of a file at the start of every lookup. */
export const MAX_DIRECT_RECORD_ASKS = 64
/**
 * The DHT provider walk waits until the connected peers asked directly have answered, or this
 * long: its dials and routing-table updates would otherwise delay their answers (measured: first
 * byte from 4 connected seeders 125 -> 73 ms, median of 5), and one that never answers must not
 * hold the walk back.
 */
export const DIRECT_ASKS_HEAD_START_MS = 50
export const MAX_DISCOVERY_ROUNDS = 3
export const INITIAL_DISCOVERY_ATTEMPTS = 3
export const DISCOVERY_RETRY_DELAY_MS = 1_000
export const MAX_SEEDERS_PER_DOWNLOAD = 32

export const PROGRESS_EVENT_INTERVAL_MS = 250
export const SPEED_WINDOW_MS = 3_000
export const FILE_CHECK_INTERVAL_MS = 1_000
/** Transfer statistics are batched in memory and written this often. */
export const STATS_FLUSH_INTERVAL_MS = 2_000
/**
 * eth_call and eth_estimateGas: gas is capped at RPC_GAS_CAP (geth's default RPCGasCap), and
 * EVM execution gets RPC_EXECUTION_BUDGET_MS of wall time per request (a batch shares one
 * budget; geth's RPCEVMTimeout), then fails with "execution aborted (timeout = 5s)". It runs in
 * slices: after RPC_EXECUTION_SLICE_MS it yields to the event loop, so networking and serving
 * wait for one slice at most, not for the whole call.
 */
export const RPC_GAS_CAP = 50_000_000n
export const RPC_EXECUTION_BUDGET_MS = 5_000
export const RPC_EXECUTION_SLICE_MS = 10
/**
 * Bandwidth and hashrate history the daemon keeps for the dashboard's charts: one sample this
 * often (the `historyIntervalMs` setting, default below), at most HISTORY_SAMPLES of them in a
 * fixed ring (an hour at the default interval), so a page opened now draws the last hour at once.
 */
export const DEFAULT_HISTORY_INTERVAL_MS = 5_000
export const HISTORY_SAMPLES = 720
/** Highest upload or download rate limit accepted (1 TiB/s): larger is a mistake, not a limit. */
export const MAX_BYTE_RATE = 2 ** 40

/**
 * Serving memory. A chunk (a native chunk, or the 1 MiB read buffer of an HTTP range) is read
 * only once a slot is free, and its slot is held until its bytes have left the process (handed
 * to the peer's socket, not just queued for it), so chunk bodies in memory stay under this many
 * MiB whatever peers do. A peer (a peer id natively, an IP address or IPv6 /64 over HTTP) gets
 * as many as one download keeps in flight; further requests wait for a slot.
 */
export const MAX_SERVING_CHUNKS = 32
export const MAX_SERVING_CHUNKS_PER_PEER = MAX_TOTAL_INFLIGHT_CHUNKS
/**
 * A response that makes no progress this long (a peer that does not read) is cut off: the
 * native stream is reset, or its connection closed if the connection itself stopped sending;
 * the HTTP socket is destroyed. Time spent waiting for our own upload limit does not count.
 */
export const SEND_STALL_TIMEOUT_MS = 15_000
/**
 * Native transfer streams per connection: a download keeps at most MAX_TOTAL_INFLIGHT_CHUNKS
 * requests (one per stream) in flight to a seeder, so this leaves room for four at once.
 */
export const NATIVE_MAX_STREAMS_PER_CONNECTION = 32
/** Requests a native stream may queue behind the one being answered (our downloader never queues any). */
export const NATIVE_MAX_QUEUED_REQUESTS = 4
/**
 * HTTP transport connections, in all and per IP address (IPv6: per /64); one more from an address
 * at its limit replaces an idle one of that address, or is closed at once if all are busy.
 */
export const HTTP_MAX_CONNECTIONS = 256
export const HTTP_MAX_CONNECTIONS_PER_IP = 64
/** An HTTP client must send its request head within this long. */
export const HTTP_HEADERS_TIMEOUT_MS = 15_000
