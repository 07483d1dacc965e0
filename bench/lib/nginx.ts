import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childPids } from './procstat.js';
import { freePort, run, spawnTracked, waitForHttp, type Tracked } from './procs.js';

export interface Nginx { url: string; proc: Tracked; workerPid(): number; stop(): Promise<void> }

/**
 * Debian's nginx as a plain reverse proxy: one worker, upstream keep-alive, no access log; its own
 * config, pid file, logs and temp paths in our temp dir; listens on loopback only; foreground so it is
 * our child and dies with the run.
 */
export async function startNginx(dir: string, upstreamPort: number): Promise<Nginx> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const tmp = (name: string) => join(dir, name);
  writeFileSync(conf, `
worker_processes 1;
daemon off;
pid ${tmp('nginx.pid')};
error_log ${tmp('error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp('client_body')};
  proxy_temp_path ${tmp('proxy_temp')};
  fastcgi_temp_path ${tmp('fastcgi_temp')};
  uwsgi_temp_path ${tmp('uwsgi_temp')};
  scgi_temp_path ${tmp('scgi_temp')};
  upstream cinder {
    server 127.0.0.1:${upstreamPort};
    keepalive 256;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://cinder;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`);
  const base = ['-p', dir, '-e', tmp('error.log'), '-c', conf];
  await run('nginx', ['-t', '-q', ...base]);
  const proc = spawnTracked('nginx', base);
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 10_000, proc);
  return {
    url,
    proc,
    workerPid: () => {
      const workers = childPids(proc.pid);
      if (workers.length !== 1) throw new Error(`expected one nginx worker, found ${workers.length}`);
      return workers[0]!;
    },
    stop: () => proc.stop('SIGTERM', 5000),
  };
}
