import { setFlagsFromString } from 'node:v8'

const OLD_GENERATION_GROWTH_PERCENT = 50

/**
 * Keeps V8's young generation at its initial size (two 1 MiB semi-spaces). Left to grow, it
 * reaches two 8-16 MiB semi-spaces that stay resident for the daemon's life, and during a
 * transfer it collects less often: each 64 KiB network buffer then lives through more collections,
 * more of them are promoted to the old generation, where they wait for a full collection, and
 * the allocator's heap fragments around them (measured: a native 1 GiB download peaked ~40 MB
 * higher). A transfer's bytes in flight are buffers outside the heap, so a larger young
 * generation buys no throughput. The flag is read whenever the young generation would grow, so
 * it works although the heap is already configured, but only for growth still to come: main.ts
 * imports this before it loads the rest of the CLI, whose parsing alone would grow it.
 */
setFlagsFromString('--semi-space-growth-factor=1')

/**
 * Lets the old generation grow by at most half its live size before a full collection. V8 otherwise
 * sizes the next limit from how fast the program allocates: after a collection in an idle moment
 * (ours after each transfer, or its own) that is up to 4x the live size, and a transfer then fills
 * the gap with promoted message objects and the network buffers they hold (measured: the third
 * 1 GiB download in one daemon grew the heap from 55 to 131 MB and its buffers by 45 MB before the
 * first full collection). The extra collections cost no throughput: native transfers used less
 * CPU on both ends with this and got faster (BENCHMARKS.md); freed buffers are reused sooner.
 */
setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`)
