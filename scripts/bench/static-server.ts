import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, sleep, terminate, track } from './proc.js'

/** A plain static file server on loopback, the baseline for `curl -o`. */
export interface StaticServer {
  kind: string
  url: string
  /** The process that serves the bytes (nginx's one worker), for its /proc counters. */
  servingPid: () => number | undefined
  stop: () => Promise<void>
}

/** nginx from PATH, or where Debian puts it (/usr/sbin is not on every user's PATH). */
function findNginx (): string | undefined {
  for (const candidate of ['nginx', '/usr/sbin/nginx']) {
    if (spawnSync(candidate, ['-v'], { stdio: 'ignore' }).status === 0) return candidate
  }
  return undefined
}

function nginxVersion (nginx: string): string {
  const result = spawnSync(nginx, ['-v'], { encoding: 'utf8' })
  return (/nginx\/(\S+)/.exec(`${result.stderr}${result.stdout}`)?.[1]) ?? '?'
}

/**
 * nginx (sendfile, one worker, access log off) from a private prefix in `workDir`, so no system
 * service or config is touched. Every run compares against this one reference: without nginx the
 * bench stops (`npm run bench` installs it first, from scripts/system-packages.txt, when root).
 */
export async function startStaticServer (root: string, workDir: string): Promise<StaticServer> {
  mkdirSync(workDir, { recursive: true })
  const port = await freePort()
  const nginx = findNginx()
  if (nginx == null) throw new Error('the bench needs nginx as its reference server: install Debian\'s nginx-light (npm run bench does it when run as root)')
  const kind = `nginx ${nginxVersion(nginx)} (1 worker, sendfile)`
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(workDir, dir), { recursive: true })
  const conf = join(workDir, 'nginx.conf')
  writeFileSync(conf, `
worker_processes 1;
daemon off;
master_process on;
pid ${join(workDir, 'nginx.pid')};
error_log ${join(workDir, 'error.log')} warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/octet-stream;
  client_body_temp_path ${join(workDir, 'client_body')};
  proxy_temp_path ${join(workDir, 'proxy')};
  fastcgi_temp_path ${join(workDir, 'fastcgi')};
  uwsgi_temp_path ${join(workDir, 'uwsgi')};
  scgi_temp_path ${join(workDir, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`)
  const child = track(spawn(nginx, ['-p', workDir, '-e', join(workDir, 'error.log'), '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] }))
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 15_000
  for (;;) {
    const ok = await fetch(`${url}/`, { method: 'HEAD' }).then(response => response.status < 500, () => false)
    if (ok) break
    if (child.exitCode != null || Date.now() > deadline) throw new Error(`${kind} did not start: ${stderr.trim()}`)
    await sleep(50)
  }
  const servingPid = (): number | undefined => {
    if (child.pid == null) return undefined
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(pid => pid !== '')
    return children.length === 1 ? Number(children[0]) : undefined
  }
  return { kind, url, servingPid, stop: async () => { await terminate(child, 3000) } }
}
