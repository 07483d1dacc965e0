// Small helpers for the end-to-end suite: HTTP to the proxy / to Cinder, keystone tokens, waiting for
// job results, and reading volume files and archives with the real tools (tar, qemu-io).
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { fatal, waitFor as waitForState } from '../helpers/wait.js';

export const E = inject('e2e');
export const P = E.projectId;

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export interface CallOpts {
  /** Token to send; null sends none. Default: the admin token. */
  token?: string | null;
  body?: unknown;
  headers?: Record<string, string>;
}

const tokens = new Map<string, Promise<string>>();

/** A project-scoped keystone token for user/password/project of the same name (admin, alt). */
export function token(user: 'admin' | 'alt' = 'admin'): Promise<string> {
  let t = tokens.get(user);
  if (!t) {
    t = (async () => {
      const scope = { project: { name: user, domain: { id: 'default' } } };
      const identity = { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password: user } } };
      const res = await fetch(`${E.keystoneUrl}/auth/tokens`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth: { identity, scope } }),
      });
      await res.arrayBuffer();
      const tok = res.headers.get('x-subject-token');
      if (res.status !== 201 || !tok) throw new Error(`keystone token for ${user}: HTTP ${res.status}`);
      return tok;
    })();
    tokens.set(user, t);
  }
  return t;
}

export async function call(base: string, method: string, path: string, opts: CallOpts = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
  const tok = opts.token === undefined ? await token('admin') : opts.token;
  if (tok !== null) headers['x-auth-token'] = tok;
  let body: string | undefined;
  if (opts.body !== undefined) { headers['content-type'] = 'application/json'; body = JSON.stringify(opts.body); }
  const res = await fetch(`${base}${path}`, { method, headers, body, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  let json: any;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

export const proxy = (method: string, path: string, opts?: CallOpts) => call(E.proxyUrl, method, path, opts);
export const cinder = (method: string, path: string, opts?: CallOpts) => call(E.cinderUrl, method, path, opts);

/** Describe an answer for assertion messages (the lead reads these when something fails). */
export function show(a: Answer): string {
  return `HTTP ${a.status} ${a.text.slice(0, 600)}`;
}

/** waitFor with the patience Cinder needs (volumes take their time to become available). */
export function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  return waitForState(what, probe, timeoutMs, 300);
}

/** Wait until Cinder itself reports the volume in one of `states` (asked directly, not via the proxy). */
export async function waitCinderStatus(kind: 'volumes' | 'snapshots', id: string, states: string[]): Promise<any> {
  const key = kind === 'volumes' ? 'volume' : 'snapshot';
  return waitFor(`${key} ${id} in ${states.join('|')}`, async () => {
    const a = await cinder('GET', `/v3/${P}/${kind}/${id}`);
    const st = a.json?.[key]?.status;
    if (st === 'error' && !states.includes('error')) throw fatal(`${key} ${id} went to error`);
    return states.includes(st) ? a.json[key] : undefined;
  });
}

const created: { kind: 'volumes' | 'snapshots'; id: string }[] = [];

/**
 * POST a create through the proxy. Cinder on SQLite now and then answers 500 ("database is locked",
 * see its log) when two of its processes write at once; that is the dev database, not the subject
 * here, so a create is tried up to three times.
 */
async function createVia(path: string, body: unknown, what: string): Promise<Answer> {
  let a: Answer | undefined;
  for (let i = 0; i < 3; i++) {
    a = await proxy('POST', path, { body });
    if (a.status === 202) return a;
    if (a.status !== 500) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`create ${what} through the proxy: ${show(a!)}`);
}

/** Create a volume through the proxy (admin, own project) and wait until it is available. */
export async function createVolume(name: string, size = 1, metadata: Record<string, string> = {}): Promise<any> {
  const a = await createVia(`/v3/${P}/volumes`, { volume: { size, name, metadata } }, 'volume');
  created.push({ kind: 'volumes', id: a.json.volume.id });
  return waitCinderStatus('volumes', a.json.volume.id, ['available']);
}

export async function createSnapshot(volumeId: string, name: string): Promise<any> {
  const a = await createVia(`/v3/${P}/snapshots`, { snapshot: { volume_id: volumeId, name, force: true } }, 'snapshot');
  created.push({ kind: 'snapshots', id: a.json.snapshot.id });
  return waitCinderStatus('snapshots', a.json.snapshot.id, ['available']);
}

/** Delete what createVolume/createSnapshot made (snapshots first), directly on Cinder; best effort. */
export async function cleanup(): Promise<void> {
  const items = created.splice(0).sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'snapshots' ? -1 : 1));
  for (const it of items) {
    if (it.kind === 'volumes') {
      await cinder('POST', `/v3/${P}/volumes/${it.id}/action`, { body: { 'os-reset_status': { status: 'available', attach_status: 'detached' } } }).catch(() => undefined);
    }
    await cinder('DELETE', `/v3/${P}/${it.kind}/${it.id}`).catch(() => undefined);
    // one at a time, to the end: deletes still running in Cinder would race the next file's creates
    await waitFor(`${it.kind} ${it.id} deleted`, async () => ((await cinder('GET', `/v3/${P}/${it.kind}/${it.id}`)).status === 404 ? true : undefined), 60_000).catch(() => undefined);
  }
}

const BACKUP_KEY = { volume: 'wrs-volume:backup_status', snapshot: 'wrs-snapshot:backup_status' } as const;

/**
 * Poll the proxy's single-resource answer until backup_status matches `want`; a `failed` status
 * when success is awaited ends the wait at once with the reason.
 */
export interface WaitOpts {
  base?: string;
  ver?: 'v2' | 'v3';
  token?: string;
  headers?: Record<string, string>;
}

export async function waitBackupStatus(kind: 'volume' | 'snapshot', id: string, want: RegExp, o: WaitOpts = {}): Promise<any> {
  return waitFor(`${kind} ${id} backup_status ${want}`, async () => {
    const a = await call(o.base ?? E.proxyUrl, 'GET', `/${o.ver ?? 'v3'}/${P}/${kind}s/${id}`, { token: o.token, headers: o.headers });
    if (a.status !== 200) throw new Error(show(a));
    const obj = a.json[kind];
    const bs: string | null = obj[BACKUP_KEY[kind]];
    if (typeof bs === 'string' && want.test(bs)) return obj;
    if (typeof bs === 'string' && / failed at /.test(bs) && !/failed/.test(want.source)) throw fatal(`${kind} ${id}: ${bs}`);
    return undefined;
  });
}

export const TS = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?`;

export function volumeFile(id: string): string {
  return join(E.volumeDir, `volume-${id}`);
}

export async function writeAt(file: string, offset: number, data: Buffer): Promise<void> {
  const fh = await open(file, 'r+');
  try { await fh.write(data, 0, data.length, offset); } finally { await fh.close(); }
}

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Archives in an export directory for one volume (final names only). */
export async function archivesOf(dir: string, volumeId: string): Promise<string[]> {
  const names = await readdir(dir);
  return names.filter((n) => n.startsWith(`volume-${volumeId}-`) && /\.(tgz|tar|tar\.zst)$/.test(n)).sort();
}

/** Stream one member out of an archive with GNU tar; returns its SHA-256, size and first bytes. */
export async function tarMember(archive: string, member: string, keep = 0): Promise<{ sha256: string; size: number; head: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn('tar', ['-xzOf', archive, member], { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = createHash('sha256');
    let size = 0;
    const head: Buffer[] = [];
    let headLen = 0;
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      h.update(c); size += c.length;
      if (headLen < keep) { head.push(c.subarray(0, keep - headLen)); headLen += Math.min(c.length, keep - headLen); }
    });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    child.on('error', reject);
    child.on('close', (code) => code === 0
      ? resolve({ sha256: h.digest('hex'), size, head: Buffer.concat(head) })
      : reject(new Error(`tar -xzOf ${archive} ${member}: exit ${code}: ${err}`)));
  });
}

export interface RunResult { code: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof (error as any).code === 'number' ? (error as any).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
  });
}

export { GiB } from '../../src/constants.js';

/** Debian's own clients (/usr/bin, Debian's python3) as admin, through the keystone catalog. */
export const clientEnv: NodeJS.ProcessEnv = {
  PATH: '/usr/bin:/bin',
  HOME: E.workDir,
  OS_AUTH_URL: E.keystoneUrl, OS_IDENTITY_API_VERSION: '3', OS_REGION_NAME: 'RegionOne',
  OS_USERNAME: 'admin', OS_PASSWORD: 'admin', OS_PROJECT_NAME: 'admin',
  OS_USER_DOMAIN_ID: 'default', OS_PROJECT_DOMAIN_ID: 'default', OS_VOLUME_API_VERSION: '3',
};
export const osc = (...args: string[]) => run('/usr/bin/openstack', args, { env: clientEnv });
export const cinderCli = (...args: string[]) => run('/usr/bin/cinder', args, { env: clientEnv });
