import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { PostgresStateStore } from '../../src/state/postgres-store.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { harness, makeVolumeFile, meta, MiB, newId, recordJob, waitFinished, waitForJob, type Harness } from './helpers.js';

// two replicas (engines with their own PostgreSQL connections and ids) on one database and one export directory
const dropped: Array<() => Promise<void>> = [];
// in parallel, with time to spare: DROP DATABASE is slow on a loaded machine
afterAll(() => Promise.all(dropped.splice(0).map((drop) => drop())), 300_000);

const SIZE_GIB = 16 / 1024;
const LEASE = { leaseMs: 15_000, renewMs: 50, sweepIntervalMs: 60_000 };

async function replicas(engine: Record<string, unknown>, nowB?: () => number): Promise<[Harness, Harness]> {
  const db = await createTestDatabase();
  dropped.push(db.drop);
  const dir = await mkdtemp(join(tmpdir(), 'stx-replicas-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const store = (now?: () => number) =>
    PostgresStateStore.open({ connectionString: db.url, poolSize: 4, logger: silentLogger(), ...(now ? { now } : {}) });
  const a = await harness({ state: LEASE }, engine, undefined, { dir, replicaId: 'replica-a', store: await store() });
  onTestFinished(() => a.cleanup());
  const b = await harness({ state: LEASE }, engine, undefined, { dir, replicaId: 'replica-b', store: await store(nowB), ...(nowB ? { now: nowB } : {}) });
  onTestFinished(() => b.cleanup());
  return [a, b];
}

async function volume(h: Harness): Promise<string> {
  const id = newId();
  await makeVolumeFile(join(h.volDir, `volume-${id}`), 16 * MiB, [[0, 16 * MiB]]);
  return id;
}

describe('replicas sharing PostgreSQL', () => {
  it('work A accepted while its worker is busy is run by B (woken by NOTIFY)', async () => {
    const [a, b] = await replicas({ concurrency: 1, bandwidthBytesPerSec: 8 * MiB });
    const first = await volume(a);
    const second = await volume(a);
    const j1 = await recordJob(a.store, 'volume-export', { volumeId: first, meta: meta(first), sizeGiB: SIZE_GIB });
    const j2 = await recordJob(a.store, 'volume-export', { volumeId: second, meta: meta(second), sizeGiB: SIZE_GIB });
    a.engine.submit(j1);
    a.engine.submit(j2);
    const r1 = await waitForJob(a.store, j1.id, (j) => j.state === 'running');
    const r2 = await waitForJob(a.store, j2.id, (j) => j.state === 'running');
    expect(new Set([r1.owner, r2.owner])).toEqual(new Set(['replica-a', 'replica-b']));
    // B sees A's work at once (shared state), and the other way round
    expect((await b.store.overlay('volume', first)).status).toBe('exporting');
    expect((await waitFinished(b.store, j1.id)).state).toBe('succeeded');
    expect((await waitFinished(b.store, j2.id)).state).toBe('succeeded');
    expect((await readdir(a.exportDir)).filter((n) => n.endsWith('.tgz'))).toHaveLength(2);
  });

  it('B fails the job of a replica that stopped renewing; that replica, when it finds out, publishes nothing', async () => {
    let skew = 0;
    const [a, b] = await replicas({ concurrency: 1, bandwidthBytesPerSec: 2 * MiB }, () => Date.now() + skew);
    await b.engine.shutdown(0); // B only sweeps here
    const id = await volume(a);
    const job = await recordJob(a.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    a.engine.submit(job);
    await waitForJob(a.store, job.id, (j) => j.owner === 'replica-a' && j.bytesDone > 0);
    skew = LEASE.leaseMs + 1000; // as far as B can tell, A has not renewed for longer than its lease
    await b.engine.sweep();
    expect(await b.store.getJob(job.id)).toMatchObject({
      state: 'failed', errorCode: 'interrupted', error: 'interrupted: replica replica-a stopped renewing its lease',
    });
    expect((await b.store.overlay('volume', id)).status).toBeNull();
    await a.engine.idle();
    expect((await readdir(a.exportDir)).filter((n) => n !== 'temp')).toEqual([]);
    expect(await readdir(join(a.exportDir, 'temp'))).toEqual([]);
  });
});
