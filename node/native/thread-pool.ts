import { native } from './index.js'

/** libuv's defaults and bounds for its pool (src/threadpool.c). */
const DEFAULT_POOL_THREADS = 4
const MAX_POOL_THREADS = 1024

/**
 * The number of threads libuv's pool starts with, read from UV_THREADPOOL_SIZE exactly as libuv
 * reads it (atoi into an unsigned count, 0 meaning 1, capped). It must be exact: naming more
 * threads than the pool has would leave the naming jobs waiting at their barrier for good.
 */
export function poolThreadCount (env: NodeJS.ProcessEnv): number {
  const value = env.UV_THREADPOOL_SIZE
  if (value == null) return DEFAULT_POOL_THREADS
  const parsed = Number.parseInt(value.trim(), 10)
  if (Number.isNaN(parsed) || parsed === 0) return 1
  return parsed < 0 || parsed > MAX_POOL_THREADS ? MAX_POOL_THREADS : parsed
}

/** Names the pool's threads "libuv-worker", so per-thread tools tell them from V8's helpers. */
export function namePoolThreads (): void {
  native.namePoolThreads(poolThreadCount(process.env))
}
