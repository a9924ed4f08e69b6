#!/usr/bin/env node
// The heap is configured before the rest of the CLI is even parsed: loading its module graph is
// what grows V8's young generation, so settings that only limit growth must come first.
import '../daemon/heap.js'

await import('./program.js')
