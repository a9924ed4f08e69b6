import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer } from '../node/api/server.js'
import { loadConfig } from '../node/config/config.js'
import { ChiralNode } from '../node/daemon/chiral-node.js'
import { silentLogger } from '../node/util/log.js'

/** Writes node/api/openapi.json from the routes a real node registers, so the file never drifts. */
const home = mkdtempSync(join(tmpdir(), 'chiral-openapi-'))
const config = loadConfig(home, { listen: ['/ip4/127.0.0.1/tcp/0'], apiPort: 0, httpPort: 0, httpHost: '127.0.0.1' }, {})
const node = new ChiralNode(home, config, silentLogger)
await node.start()
const api = await createApiServer(node)
await api.ready()
const target = new URL('../../node/api/openapi.json', import.meta.url)
writeFileSync(target, JSON.stringify(api.swagger(), null, 2) + '\n')
await api.close()
await node.stop()
rmSync(home, { recursive: true, force: true })
process.stdout.write(`wrote ${target.pathname}\n`)
