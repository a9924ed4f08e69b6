import { expect } from 'chai'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiServer } from '../../node/api/server.js'
import { loadConfig } from '../../node/config/config.js'
import { ChiralNode } from '../../node/daemon/chiral-node.js'
import { silentLogger } from '../../node/util/log.js'

describe('OpenAPI description', () => {
  it('the committed node/api/openapi.json matches the routes a node serves (run npm run openapi after changing them)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'chiral-openapi-test-'))
    const config = loadConfig(home, { listen: ['/ip4/127.0.0.1/tcp/0'], apiPort: 0, httpPort: 0, httpHost: '127.0.0.1' }, {})
    const node = new ChiralNode(home, config, silentLogger)
    await node.start()
    const api = await createApiServer(node)
    try {
      await api.listen({ host: '127.0.0.1', port: 0 })
      const address = api.server.address() as { port: number }
      const served = await (await fetch(`http://127.0.0.1:${address.port}/api/openapi.json`)).json() as { paths: Record<string, unknown> }
      const committed = JSON.parse(readFileSync(new URL('../../../node/api/openapi.json', import.meta.url), 'utf8')) as { paths: Record<string, unknown> }
      expect(served).to.deep.equal(committed)
      expect(Object.keys(served.paths)).to.include.members(['/api/status', '/api/files', '/api/downloads', '/api/downloads/{cid}', '/api/settings/limits', '/api/events'])
    } finally {
      await api.close()
      await node.stop()
      rmSync(home, { recursive: true, force: true })
    }
  })
})
