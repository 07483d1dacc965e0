import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from './build.js';
import { startNginx, type Nginx } from './nginx.js';
import { createBenchDatabase, type BenchDatabase } from './pg-database.js';
import { spawnTracked, type Tracked } from './procs.js';
import { startProxy, type ProxyChild } from './proxy.js';
import type { Settings } from './settings.js';

/** Project ids the fake Cinder knows: a small detail answer, and the big one for the rewrite section. */
export const PROJECT = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
export const BIG_PROJECT = 'b16b16b16b16b16b16b16b16b16b16b1';
export const HOST = 'bench@file#file';

export interface Upstream { url: string; pid: number; proc: Tracked }

/** Shared state of a run: settings, temp dir, and the long-lived children, started on first use. */
export class BenchContext {
  /** The sparse volume exported through the proxy (memory section). */
  readonly sparseVolumeId = randomUUID();
  /** Archives the export section leaves for the import section. */
  archives: { volumeId: string; volumeFile: string; volumeBytes: number; engine?: string; original?: string; exportDir: string;
    /** Wall time of `cp` + `sync` of the volume in the same run: the disk's limit both ways are judged against (issue 11). */
    cpSyncSec?: number } | undefined;
  /** Peak RSS of the proxy while it served the pass-through load. */
  proxyLoadPeakRssMB: number | undefined;
  private upstreamP: Promise<Upstream> | undefined;
  private proxyP: Promise<ProxyChild> | undefined;
  private pgProxyP: Promise<{ proxy: ProxyChild; db: BenchDatabase }> | undefined;
  private nginxP: Promise<Nginx> | undefined;
  private floorP: Promise<Upstream> | undefined;

  constructor(readonly settings: Settings, readonly runtime: Runtime, readonly tmp: string,
    /** Where the proxy writes a V8 CPU profile on exit (BENCH_CPU_PROF=1); kept after the run. */
    readonly cpuProfDir?: string) {}

  dir(name: string): string {
    const d = join(this.tmp, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  private listeningChild(rel: string, arg: string, what: string): Promise<Upstream> {
    return startListeningChild(this.runtime, rel, arg, what);
  }

  upstream(): Promise<Upstream> {
    this.upstreamP ??= this.listeningChild('bench/lib/upstream-child.ts', JSON.stringify({
      bigProject: BIG_PROJECT, bigCount: this.settings.rewriteVolumes, host: HOST,
      volumes: { [this.sparseVolumeId]: Math.ceil(this.settings.sparseGiB) },
    }), 'fake upstream');
    return this.upstreamP;
  }

  /** A minimal Node reverse proxy in front of another port (the real Cinder's): the caller stops it. */
  floorProxyFor(port: number): Promise<Upstream> {
    return this.listeningChild('bench/lib/floor-proxy-child.ts', String(port), 'floor proxy');
  }

  /** A Node process relaying TCP bytes to another port (lib/relay-child.ts): the caller stops it. */
  relayFor(port: number): Promise<Upstream> {
    return this.listeningChild('bench/lib/relay-child.ts', String(port), 'tcp relay');
  }

  /** The minimal Node reverse proxy, for reference (lib/floor-proxy-child.ts). */
  floorProxy(): Promise<Upstream> {
    this.floorP ??= (async () => this.listeningChild('bench/lib/floor-proxy-child.ts', new URL((await this.upstream()).url).port, 'floor proxy'))();
    return this.floorP;
  }

  /** The proxy's file backend reads volumes from here (the sparse volume of the memory section). */
  get proxyVolumesDir(): string { return this.dir('proxy-volumes'); }

  proxy(): Promise<ProxyChild> {
    this.proxyP ??= (async () => startProxy(this.runtime, {
      dir: this.dir('proxy'),
      upstreamUrl: (await this.upstream()).url,
      logLevel: this.settings.proxyLogLevel,
      volumePath: join(this.proxyVolumesDir, 'volume-{id}'),
      ...(this.cpuProfDir ? { cpuProfDir: this.cpuProfDir } : {}),
      nodeFlags: this.settings.proxyNodeFlags,
    }))();
    return this.proxyP;
  }

  /** The same proxy with its state in a PostgreSQL database of the run's own (made here, dropped in stopAll). */
  pgProxy(): Promise<ProxyChild> {
    this.pgProxyP ??= (async () => {
      const db = await createBenchDatabase();
      try {
        const proxy = await startProxy(this.runtime, {
          dir: this.dir('proxy-pg'),
          upstreamUrl: (await this.upstream()).url,
          logLevel: this.settings.proxyLogLevel,
          volumePath: join(this.proxyVolumesDir, 'volume-{id}'),
          stateUrl: db.url,
        });
        return { proxy, db };
      } catch (err) {
        await db.drop();
        throw err;
      }
    })();
    return this.pgProxyP.then((p) => p.proxy);
  }

  nginx(): Promise<Nginx> {
    this.nginxP ??= (async () => startNginx(this.dir('nginx'), Number(new URL((await this.upstream()).url).port)))();
    return this.nginxP;
  }

  /** Stop the long-lived children in order: front ends first, the upstream last. */
  async stopAll(): Promise<void> {
    const settle = async <T>(p: Promise<T> | undefined, stop: (v: T) => Promise<void>) => {
      if (!p) return;
      try { await stop(await p); } catch { /* failed to start: nothing to stop */ }
    };
    await settle(this.proxyP, (p) => p.stop());
    await settle(this.pgProxyP, async ({ proxy, db }) => { await proxy.stop(); await db.drop(); });
    await settle(this.nginxP, (n) => n.stop());
    await settle(this.floorP, (f) => f.proc.stop());
    await settle(this.upstreamP, (u) => u.proc.stop());
  }
}

/**
 * A node child of ours that prints `LISTENING <port>` once it serves. `command` runs node (`node` itself, or
 * node under a tool such as valgrind: bench/instructions.ts).
 */
export async function startListeningChild(runtime: Runtime, rel: string, arg: string, what: string,
  { command = ['node'], startTimeoutMs = 30_000 }: { command?: readonly string[]; startTimeoutMs?: number } = {}): Promise<Upstream> {
  const [cmd, ...pre] = command;
  const proc = spawnTracked(cmd!, [...pre, ...runtime.nodeArgs(rel), arg], { env: runtime.env });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), startTimeoutMs);
    proc.child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
    proc.child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /LISTENING (\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    void proc.exited.then((c) => { clearTimeout(timer); reject(new Error(`${what} exited ${c}: ${err}`)); });
  });
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid, proc };
}
