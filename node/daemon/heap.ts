import { setFlagsFromString } from 'node:v8'

/**
 * Keeps V8's young generation near its initial size. Left to grow, start-up's surviving objects
 * push it to two 16 MiB semi-spaces that stay resident for the daemon's life (~25 MB of an idle
 * daemon's RSS, and as much of its peak during a transfer, whose bytes in flight are buffers
 * outside the heap, so a larger young generation buys no throughput). The flag is read at each
 * collection, so it applies although the heap is already configured, but only to growth still
 * to come: this must be the entry point's first import, before the modules it loads grow it.
 */
setFlagsFromString('--semi-space-growth-factor=1')
