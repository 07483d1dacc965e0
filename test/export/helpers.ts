import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema, type Config } from '../../src/config/schema.js';
import { GiB } from '../../src/constants.js';
import { silentLogger } from '../../src/log.js';
import { createEngine } from '../../src/export/engine.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { Engine } from '../../src/export/contract.js';
import type { Job, JobKind, JobParams, StateStore } from '../../src/state/types.js';

export { GiB };
export const MiB = 1024 * 1024;

export function sh(cmd: string, args: string[], opts: { input?: Buffer } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input: opts.input, stdio: ['pipe', 'pipe', 'pipe'] });
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of createReadStream(path, { highWaterMark: 4 * MiB })) h.update(c as Buffer);
  return h.digest('hex');
}

/** A file of `size` bytes: random data in the given MiB ranges, holes elsewhere. */
export async function makeVolumeFile(path: string, size: number, randomAt: Array<[number, number]> = []): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.truncate(size);
    for (const [off, len] of randomAt) await fh.write(randomBytes(len), 0, len, off);
  } finally {
    await fh.close();
  }
}

export function meta(volumeId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    'volume-base-metadata': { id: volumeId, size: 1, status: 'available', ...extra },
    'volume-metadata': {}, 'volume-glance-metadata': {}, 'volume-attachment-metadata': [],
  };
}

export interface Harness {
  dir: string;
  exportDir: string;
  volDir: string;
  config: Config;
  store: StateStore;
  engine: Engine;
  cleanup(): Promise<void>;
}

type CfgArg = Record<string, unknown> | ((dir: string) => Record<string, unknown>);

/** Volumes whose zeros must really be written (devices, commands) live in RAM to keep tests fast. */
export const RAM_DIR = '/dev/shm';

export interface HarnessOptions {
  /** Start the engine (recover) at once; default true. */
  start?: boolean;
  /** The clock of the store and the engine. */
  now?: () => number;
  replicaId?: string;
  /** Use this store (e.g. PostgreSQL shared with another harness) instead of a SQLite file; closed with the harness. */
  store?: StateStore;
  /** Use this directory instead of a new one (two replicas sharing one export directory). */
  dir?: string;
  /** The engine's soleOwner (the embedded store of one process). */
  soleOwner?: boolean;
}

export async function harness(cfgArg: CfgArg = {}, engineCfg: Record<string, unknown> = {}, root = tmpdir(),
  options: HarnessOptions = {}): Promise<Harness> {
  const dir = options.dir ?? await mkdtemp(join(root, 'stx-export-'));
  const exportDir = join(dir, 'backups');
  const volDir = join(dir, 'vols');
  await mkdir(exportDir, { recursive: true });
  await mkdir(volDir, { recursive: true });
  const cfg = typeof cfgArg === 'function' ? cfgArg(dir) : cfgArg;
  const config = configSchema.parse({
    dataDir: join(dir, 'data'), exportDir,
    backends: [{ name: 'files', type: 'file', volumePath: `${volDir}/volume-{id}` }],
    ...cfg,
    engine: { minFreeBytes: 0, ...engineCfg },
  });
  const clock = options.now ? { now: options.now } : {};
  const store = options.store ?? new SqliteStateStore(join(dir, 'data', 'state.db'), clock);
  const engine = createEngine({ config, store, logger: silentLogger(), replicaId: options.replicaId ?? TEST_REPLICA, ...clock,
    ...(options.soleOwner ? { soleOwner: true } : {}) });
  if (options.start !== false) await engine.recover();
  return {
    dir, exportDir, volDir, config, store, engine,
    async cleanup() {
      await engine.shutdown(0);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const TEST_REPLICA = 'test-replica';

/** Record a job the way the action handlers do (the store writes the started string in the same transaction). */
export async function recordJob(store: StateStore, kind: JobKind, params: Partial<JobParams> & { volumeId: string },
  backend = 'files'): Promise<Job> {
  const isSnap = kind === 'snapshot-export';
  const resourceId = isSnap ? params.snapshotId! : params.volumeId;
  const job = await store.createJob({
    kind, resourceType: isSnap ? 'snapshot' : 'volume', resourceId, projectId: 'p1', backend,
    params: { sizeGiB: 1, host: null, ...params }, bytesTotal: (params.sizeGiB ?? 1) * GiB,
  });
  if (!job) throw new Error('job not created');
  return job;
}

/** Wait (on the store's change events, no polling) until the job satisfies `pred`. */
export async function waitForJob(store: StateStore, id: string, pred: (job: Job) => boolean, timeoutMs = 600_000): Promise<Job> {
  let wake = () => {};
  const unsubscribe = store.subscribe(() => wake());
  const timer = setTimeout(() => wake(), timeoutMs);
  const until = Date.now() + timeoutMs;
  try {
    for (;;) {
      const changed = new Promise<void>((resolve) => { wake = resolve; });
      const job = (await store.getJob(id))!;
      if (pred(job)) return job;
      if (Date.now() >= until) throw new Error(`job ${id} still ${job.state}`);
      await changed;
    }
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

export function waitFinished(store: StateStore, id: string, timeoutMs = 600_000): Promise<Job> {
  return waitForJob(store, id, (job) => job.state === 'succeeded' || job.state === 'failed', timeoutMs);
}

/** Export then wait; returns the finished job. */
export async function runJob(h: Harness, kind: JobKind, params: Partial<JobParams> & { volumeId: string }): Promise<Job> {
  const job = await recordJob(h.store, kind, params, h.config.backends[0]!.name);
  h.engine.submit(job);
  return waitFinished(h.store, job.id);
}

export const newId = () => randomUUID();
