import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'node:http';
import { trackGroup, untrackGroup } from './cleanup.js';

export interface Tracked {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/** Spawn in its own process group, tracked for cleanup. */
export function spawnTracked(cmd: string, args: string[], options: SpawnOptions = {}): Tracked {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options, detached: true });
  if (child.pid === undefined) throw new Error(`cannot start ${cmd}`);
  const pid = child.pid;
  trackGroup(pid);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { untrackGroup(pid); resolve(code ?? signal ?? -1); });
    child.once('error', () => { untrackGroup(pid); resolve(-1); });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<void> => {
    try { process.kill(-pid, signal); } catch { return; }
    const timer = setTimeout(() => { try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ } }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { child, pid, exited, stop };
}

export interface RunResult { code: number | string; stdout: string; stderr: string }

/** Run to completion, collecting output; throws when it exits non-zero unless `allowFail`. */
export async function run(cmd: string, args: string[], options: SpawnOptions & { allowFail?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  const t = spawnTracked(cmd, args, options);
  let stdout = '';
  let stderr = '';
  t.child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  t.child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = options.timeoutMs ? setTimeout(() => void t.stop('SIGKILL'), options.timeoutMs) : undefined;
  const code = await t.exited;
  if (timer) clearTimeout(timer);
  if (code !== 0 && !options.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.trim().slice(-800)}`);
  }
  return { code, stdout, stderr };
}

export interface Timed { wallSec: number; maxRssKiB: number; userSec: number; sysSec: number; stdout: string; stderr: string }

/** Run under /usr/bin/time: wall, peak RSS (the largest of the process tree it waited for) and CPU. */
export async function timed(cmd: string, args: string[], timeFile: string, options: SpawnOptions = {}): Promise<Timed> {
  const res = await run('/usr/bin/time', ['-f', '%e %M %U %S', '-o', timeFile, cmd, ...args], options);
  const [e, m, u, s] = (await readFile(timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
  return { wallSec: e!, maxRssKiB: m!, userSec: u!, sysSec: s!, stdout: res.stdout, stderr: res.stderr };
}

/** A free loopback port (tiny race between closing and the user binding it; fine for a bench). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** GET a loopback URL; resolves with status and body. */
export function httpGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return httpCall('GET', url, headers);
}

export function httpCall(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) }, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { data += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Poll until `url` answers with `status` (any status when undefined), or fail with what the process said. */
export async function waitForHttp(url: string, timeoutMs: number, proc?: Tracked, status?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitedEarly: number | string | undefined;
  void proc?.exited.then((c) => { exitedEarly = c; });
  let last = '';
  while (Date.now() < deadline) {
    if (exitedEarly !== undefined) throw new Error(`process exited (${exitedEarly}) before ${url} answered`);
    try {
      const res = await httpGet(url);
      if (status === undefined || res.status === status) return;
      last = `status ${res.status}`;
    } catch (err) { last = (err as Error).message; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}
