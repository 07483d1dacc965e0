// Several proxy replicas in front of the one real Cinder, sharing one PostgreSQL database and one
// export directory (issue 10): the database, the replicas, a TCP gate in front of PostgreSQL that a
// test can cut, and Debian's haproxy. Everything a test starts here is stopped when the test finishes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { E, P, call, cleanup, waitFor, type Answer } from './helpers.js';
import { freePort, startProxyChild, stopProxyChild, writeProxyConfig, type ProxyChild } from './proxy-process.js';

const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;
const adminUrl = `postgres://postgres@${PG_HOST}:${PG_PORT}/postgres`;

/** Short lease timings, so a dead replica's job is failed within seconds. */
export const LEASE_MS = 3000;
export const RENEW_MS = 500;
export const SWEEP_MS = 500;

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

/** A database of the file's own (random name); `drop` it in afterAll. */
async function createDatabase(): Promise<{ name: string; drop(): Promise<void> }> {
  const name = `stx_e2e_${randomBytes(6).toString('hex')}`;
  await admin(`CREATE DATABASE ${name}`);
  // FORCE: a replica killed with -9 may leave a session the server has not noticed yet
  return { name, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

export interface ReplicaFile {
  /** The file's work dir: each replica gets <work>/<id>/ (config, dataDir, log). */
  work: string;
  /** The one export directory all replicas share. */
  exportDir: string;
  /** The file's database (made in beforeAll). */
  database(): string;
}

/**
 * What one test file shares: a work dir with the export directory, and a PostgreSQL database; after
 * the file, the volumes it made are deleted, the database dropped and the work dir removed.
 */
export function replicaFile(prefix: string): ReplicaFile {
  const work = mkdtempSync(join(E.workDir, `${prefix}-`));
  const exportDir = join(work, 'export');
  mkdirSync(exportDir);
  let db: { name: string; drop(): Promise<void> } | undefined;
  beforeAll(async () => { db = await createDatabase(); });
  afterAll(async () => {
    await cleanup();
    await db?.drop();
    // E2E_KEEP=1 keeps the replicas' logs and the archives for a look after a failure
    if (!process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
  });
  return { work, exportDir, database: () => db!.name };
}

export const exportBody = { 'wrs-volume:os-volume_export': null };
export const importBody = (file_name: string) => ({ 'wrs-volume:os-volume_import': { file_name } });
export const volumePath = (id: string) => `/v3/${P}/volumes/${id}`;
/** POST a volume action through one replica (or haproxy). */
export const act = (r: { call: Replica['call'] }, id: string, body: unknown) => r.call('POST', `${volumePath(id)}/action`, body);

/**
 * A TCP forwarder of the test's own between the replicas and PostgreSQL: `cut()` resets every
 * connection and every new one (PostgreSQL unreachable), `restore()` lets them through again.
 */
export interface PgGate {
  port: number;
  cut(): void;
  restore(): void;
}

export async function pgGate(): Promise<PgGate> {
  const open = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) { client.resetAndDestroy(); return; }
    const upstream = net.connect(PG_PORT, PG_HOST);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  onTestFinished(() => new Promise<void>((done) => {
    for (const s of open) s.destroy();
    server.close(() => done());
  }));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      cut = true;
      for (const s of open) s.resetAndDestroy();
    },
    restore() { cut = false; },
  };
}

export interface ReplicaOptions {
  /** The database name; the server is PG_HOST:PG_PORT unless `pgPort` says otherwise (a gate). */
  database: string;
  pgPort?: number;
  /** The test's work dir: each replica gets <root>/<id>/ (config, dataDir, log). */
  root: string;
  /** The one export directory all replicas share. */
  exportDir: string;
  engine?: Record<string, unknown>;
}

export interface Replica extends ProxyChild {
  id: string;
  port: number;
  log: string;
  /** GET/POST/... on this replica, with the admin token. */
  call(method: string, path: string, body?: unknown): Promise<Answer>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Start one replica (a proxy child) named `id`; stopped (SIGKILL if it will not stop) when the test finishes. */
export async function startReplica(id: string, o: ReplicaOptions): Promise<Replica> {
  const port = await freePort();
  const dir = join(o.root, id);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, 'proxy.yaml');
  writeProxyConfig(configPath, {
    port, upstream: E.cinderUrl, dataDir: join(dir, 'data'), exportDir: o.exportDir,
    volumePath: `${E.mntBase}/*/volume-{id}`,
    engine: { shutdownTimeoutMs: 2000, ...o.engine },
    state: {
      url: `postgres://postgres@${PG_HOST}:${o.pgPort ?? PG_PORT}/${o.database}`,
      replicaId: id, leaseMs: LEASE_MS, renewMs: RENEW_MS, sweepIntervalMs: SWEEP_MS,
    },
  });
  const log = join(dir, 'proxy.log');
  const child = await startProxyChild(configPath, port, log);
  onTestFinished(() => stopProxyChild(child));
  return {
    ...child, id, port, log,
    call: (method, path, body) => call(child.url, method, path, body === undefined ? {} : { body }),
    async kill9() { child.child.kill('SIGKILL'); await child.exited; },
    stop: () => stopProxyChild(child),
  };
}

/** Work files of running jobs (`<exportDir>/temp/*.part`). */
export function partFiles(exportDir: string): string[] {
  const temp = join(exportDir, 'temp');
  return existsSync(temp) ? readdirSync(temp).filter((n) => n.endsWith('.part')) : [];
}

/** Wait until a job's work file shows up in the shared temp dir (a replica has claimed it and moves data). */
export function waitPartFile(exportDir: string, what: string, before: readonly string[] = []): Promise<string> {
  return waitFor(`a work file in temp/ (${what})`, async () => partFiles(exportDir).find((n) => !before.includes(n)), 120_000);
}

/** The volume as one replica answers it (status overlay and wrs-volume:* keys). */
export async function volumeVia(r: { call: Replica['call'] }, volumeId: string, project: string): Promise<any> {
  const a = await r.call('GET', `/v3/${project}/volumes/${volumeId}`);
  if (a.status !== 200) throw new Error(`GET volume through ${'id' in r ? String(r.id) : 'haproxy'}: HTTP ${a.status} ${a.text.slice(0, 300)}`);
  return a.json.volume;
}

export interface Haproxy {
  url: string;
  call(method: string, path: string, body?: unknown): Promise<Answer>;
}

/**
 * Debian's haproxy (scripts/install-deps.sh installs it) on a free port, round-robin over `servers`,
 * each answer tagged with the server that gave it (x-served-by). Stopped when the test finishes.
 */
export async function startHaproxy(root: string, servers: readonly Replica[]): Promise<Haproxy> {
  const port = await freePort();
  const cfg = join(root, 'haproxy.cfg');
  writeFileSync(cfg, [
    'global', '  maxconn 256',
    'defaults', '  mode http', '  timeout connect 5s', '  timeout client 120s', '  timeout server 120s',
    `frontend cinder`, `  bind 127.0.0.1:${port}`, '  default_backend replicas',
    'backend replicas', '  balance roundrobin', '  http-response set-header x-served-by %[srv_name]',
    ...servers.map((s) => `  server ${s.id} 127.0.0.1:${s.port}`),
    '',
  ].join('\n'));
  const child = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  onTestFinished(async () => { child.kill('SIGTERM'); await exited; });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`haproxy on ${port}`, async () => {
    if (child.exitCode !== null) throw Object.assign(new Error(`haproxy exited: ${stderr}`), { fatal: true });
    return (await fetch(`${url}/`).then((r) => r.arrayBuffer().then(() => r.status), () => 0)) !== 0 ? true : undefined;
  }, 30_000);
  return { url, call: (method, path, body) => call(url, method, path, body === undefined ? {} : { body }) };
}
