import { execFileSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configSchema, type Config } from '../../src/config/schema.js';
import { GiB } from '../../src/constants.js';
import { silentLogger } from '../../src/log.js';
import { createEngine } from '../../src/export/engine.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { backupStatusText, pythonTimestamp } from '../../src/state/timestamps.js';
import type { Job, JobEngine, JobKind, JobParams, StateStore } from '../../src/state/types.js';

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
  engine: JobEngine;
  cleanup(): Promise<void>;
}

type CfgArg = Record<string, unknown> | ((dir: string) => Record<string, unknown>);

/** Volumes whose zeros must really be written (devices, commands) live in RAM to keep tests fast. */
export const RAM_DIR = '/dev/shm';

export async function harness(cfgArg: CfgArg = {}, engineCfg: Record<string, unknown> = {}, root = tmpdir()): Promise<Harness> {
  const dir = await mkdtemp(join(root, 'stx-export-'));
  const exportDir = join(dir, 'backups');
  const volDir = join(dir, 'vols');
  await mkdir(exportDir);
  await mkdir(volDir);
  const cfg = typeof cfgArg === 'function' ? cfgArg(dir) : cfgArg;
  const config = configSchema.parse({
    dataDir: join(dir, 'data'), exportDir,
    backends: [{ name: 'files', type: 'file', volumePath: `${volDir}/volume-{id}` }],
    ...cfg,
    engine: { minFreeBytes: 0, ...engineCfg },
  });
  const store = new SqliteStateStore(join(dir, 'data', 'state.db'));
  const engine = createEngine({ config, store, logger: silentLogger() });
  return {
    dir, exportDir, volDir, config, store, engine,
    async cleanup() {
      await engine.shutdown(0);
      store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Record a job the way the action handlers do (started string in the same transaction). */
export function recordJob(store: StateStore, kind: JobKind, params: Partial<JobParams> & { volumeId: string }): Job {
  const ts = pythonTimestamp();
  const isSnap = kind === 'snapshot-export';
  const resourceId = isSnap ? params.snapshotId! : params.volumeId;
  const job = store.createJob({
    kind, resourceType: isSnap ? 'snapshot' : 'volume', resourceId, projectId: 'p1',
    params: { sizeGiB: 1, host: null, ...params }, bytesTotal: (params.sizeGiB ?? 1) * GiB,
    backupStatus: isSnap
      ? [{ resourceType: 'snapshot', resourceId, backupStatus: backupStatusText.exportStarted(ts) },
        { resourceType: 'volume', resourceId: params.volumeId, backupStatus: backupStatusText.snapshotExportStarted(ts) }]
      : [{ resourceType: 'volume', resourceId,
        backupStatus: kind === 'volume-import' ? backupStatusText.importStarted(ts) : backupStatusText.exportStarted(ts) }],
  });
  if (!job) throw new Error('job not created');
  return job;
}

export async function waitFinished(store: StateStore, id: string, timeoutMs = 120_000): Promise<Job> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = store.getJob(id)!;
    if (job.state === 'succeeded' || job.state === 'failed') return job;
    if (Date.now() > until) throw new Error(`job ${id} still ${job.state}`);
    await sleep(20);
  }
}

/** Export then wait; returns the finished job. */
export async function runJob(h: Harness, kind: JobKind, params: Partial<JobParams> & { volumeId: string }): Promise<Job> {
  const job = recordJob(h.store, kind, params);
  h.engine.submit(job);
  return waitFinished(h.store, job.id);
}

export const newId = () => randomUUID();
