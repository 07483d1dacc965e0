import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Runtime } from './build.js';
import { projectRoot } from './paths.js';
import { freePort, spawnTracked, waitForHttp, type Tracked } from './procs.js';

export interface ProxyChild { url: string; pid: number; proc: Tracked; logFile: string; stop(): Promise<void> }

export interface ProxyOptions {
  dir: string;
  upstreamUrl: string;
  logLevel: string;
  /** File backend template for the export through the proxy. */
  volumePath: string;
  /** Write a V8 CPU profile into this dir when the proxy exits. */
  cpuProfDir?: string;
  /** Extra node flags (BENCH_PROXY_NODE_FLAGS), e.g. --max-semi-space-size=4 or --trace-gc. */
  nodeFlags?: string[];
  /** `state.url`: a postgres:// URL puts the state in PostgreSQL; absent = the embedded SQLite. */
  stateUrl?: string;
  /** What runs node: `node` itself, or node under a tool (bench/instructions.ts: valgrind). */
  command?: readonly string[];
  /** How long it may take to answer /healthz (30 s; much longer under valgrind). */
  startTimeoutMs?: number;
}

/** The node options the Dockerfile runs the proxy with (its `ENV NODE_OPTIONS=` line), so the bench measures those. */
export function productionNodeFlags(): string[] {
  const m = /^ENV NODE_OPTIONS="?([^"\n]*)"?$/m.exec(readFileSync(join(projectRoot, 'Dockerfile'), 'utf8'));
  return (m?.[1] ?? '').split(/\s+/).filter(Boolean);
}

/** The product itself, as an operator starts it (`main.ts --config FILE`), in its own process. */
export async function startProxy(runtime: Runtime, opts: ProxyOptions): Promise<ProxyChild> {
  mkdirSync(opts.dir, { recursive: true });
  const port = await freePort();
  const configFile = join(opts.dir, 'proxy.yaml');
  writeFileSync(configFile, stringify({
    listen: { host: '127.0.0.1', port },
    upstream: { url: opts.upstreamUrl },
    dataDir: join(opts.dir, 'data'),
    exportDir: join(opts.dir, 'exports'),
    backends: [{ name: 'bench', type: 'file', volumePath: opts.volumePath }],
    log: { level: opts.logLevel },
    ...(opts.stateUrl ? { state: { url: opts.stateUrl } } : {}),
  }));
  mkdirSync(join(opts.dir, 'exports'), { recursive: true });
  const logFile = join(opts.dir, 'proxy.log');
  const fd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { ...runtime.env, STX_PROXY_CONFIG: configFile };
  for (const key of ['STX_PROXY_PORT', 'STX_PROXY_UPSTREAM', 'STX_PROXY_EXPORT_DIR', 'STX_PROXY_DATA_DIR', 'STX_PROXY_LOG_LEVEL', 'STX_PROXY_STATE_URL', 'STX_PROXY_REPLICA_ID']) delete env[key];
  const prof = [...(opts.nodeFlags ?? []), ...(opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : [])];
  const [cmd, ...pre] = opts.command ?? ['node'];
  const proc = spawnTracked(cmd!, [...pre, ...prof, ...runtime.nodeArgs('src/main.ts'), '--config', configFile], { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/healthz`, opts.startTimeoutMs ?? 30_000, proc, 200);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw new Error(`${(err as Error).message}; proxy log: ${readFileSync(logFile, 'utf8').slice(-1500)}`);
  }
  return { url, pid: proc.pid, proc, logFile, stop: () => proc.stop('SIGTERM', 10_000) };
}
