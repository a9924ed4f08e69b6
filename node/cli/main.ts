#!/usr/bin/env node
// The daemon's heap is configured before the rest of the CLI is even parsed: loading its module
// graph is what grows V8's young generation, so settings that only limit growth must come first.
// Other commands do without (it loads the native addon); any argument `daemon` loads it, so the
// daemon command never misses it.
if (process.argv.includes('daemon')) await import('../daemon/heap.js')

// ls, status, peers and earnings in their plain form skip the argument parser (quick.ts).
const { runQuick } = await import('./quick.js')
if (!await runQuick(process.argv.slice(2))) await import('./program.js')
