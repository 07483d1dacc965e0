// Start the proxy as a child process (`node --import tsx src/main.ts --config FILE`), as a user
// would run it: one process, so `kill -9` really kills the proxy.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export interface ProxyConfigInput {
  port: number;
  upstream: string;
  dataDir: string;
  exportDir: string;
  /** File backend template, e.g. <mnt base>/* /volume-{id}. */
  volumePath: string;
  engine?: Record<string, unknown>;
  /** `state` keys (url, replicaId, lease timings ...); absent = the embedded SQLite store. */
  state?: Record<string, unknown>;
}

/** The config file the proxy reads (JSON is valid YAML). */
export function writeProxyConfig(path: string, c: ProxyConfigInput): void {
  const config = {
    listen: { host: '127.0.0.1', port: c.port },
    upstream: { url: c.upstream },
    dataDir: c.dataDir,
    exportDir: c.exportDir,
    engine: { minFreeBytes: 0, ...(c.engine ?? {}) },
    backends: [{ name: 'nfs', type: 'file', volumePath: c.volumePath }],
    ...(c.state ? { state: c.state } : {}),
    log: { level: 'info' },
  };
  writeFileSync(path, JSON.stringify(config, null, 2));
}

export interface ProxyChild {
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function tail(file: string): string {
  try { return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n'); } catch { return '(no log)'; }
}

/** Spawn the proxy and wait until it answers version discovery (which it proxies to Cinder). */
export async function startProxyChild(configPath: string, port: number, logFile: string): Promise<ProxyChild> {
  const fd = openSync(logFile, 'a');
  // E2E_PROXY_ENTRY runs another entry file (to debug this harness without the real proxy)
  const entry = process.env.E2E_PROXY_ENTRY ?? 'src/main.ts';
  const child = spawn(process.execPath, ['--import', 'tsx', entry, '--config', configPath], {
    cwd: repoRoot, stdio: ['ignore', fd, fd], env: { ...process.env, NODE_ENV: 'production' },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let dead = false;
  void exited.then(() => { dead = true; });
  const url = `http://127.0.0.1:${port}`;
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    if (dead) throw new Error(`proxy exited before it answered; log ${logFile}:\n${tail(logFile)}`);
    try {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200 || res.status === 300) return { url, child, exited };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`proxy did not answer GET / within 60 s; log ${logFile}:\n${tail(logFile)}`);
}

export async function stopProxyChild(p: ProxyChild, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill(signal);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}
