import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedStateStore } from '../../src/state/cached-store.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { StateStore } from '../../src/state/types.js';
import { exportJob, storeContract, testClock } from './store-contract.js';

let dir: string;
const open: StateStore[] = [];
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stx-state-')); });
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

function sqlite(now?: () => number, name = `state-${open.length}.db`): SqliteStateStore {
  const s = new SqliteStateStore(join(dir, name), now ? { now } : {});
  open.push(s);
  return s;
}

storeContract('sqlite', async (clock) => sqlite(clock.now));
storeContract('cached sqlite', async (clock) => new CachedStateStore(sqlite(clock.now), 100));

describe('cached store', () => {
  it('serves repeated batch reads from memory, drops an entry when the store says the resource changed', async () => {
    const inner = sqlite();
    const s = new CachedStateStore(inner, 100);
    let reads = 0;
    const overlays = inner.overlays.bind(inner);
    inner.overlays = (type, ids) => { reads++; return overlays(type, ids); };
    expect((await s.overlays('volume', ['v1', 'v2'])).get('v1')!.status).toBeNull();
    expect((await s.overlays('volume', ['v1', 'v2'])).get('v1')!.status).toBeNull();
    expect(reads).toBe(1);
    const j = (await inner.createJob(exportJob('v1')))!; // a write the cache only hears of through the event
    expect((await s.overlays('volume', ['v1', 'v2'])).get('v1')).toMatchObject({ status: 'exporting', progress: '0%' });
    expect(reads).toBe(2);
    await inner.claimNext({ owner: 'a', backends: ['nfs'], leaseMs: 1000 });
    await inner.renewLease(j.id, { owner: 'a', leaseMs: 1000, bytesDone: 500 });
    expect((await s.overlays('volume', ['v1'])).get('v1')!.progress).toBe('50%');
    await s.finishJob(j.id, { state: 'succeeded' });
    expect((await s.overlays('volume', ['v1'])).get('v1')).toMatchObject({ status: null, progress: null, backupStatus: expect.stringMatching(/^Export completed at /) });
  });

  it('gives cached overlays at once only when it holds every one asked for', async () => {
    const inner = sqlite();
    const s = new CachedStateStore(inner, 100);
    expect(s.cachedOverlays('volume', ['v1'])).toBeUndefined();
    await s.overlays('volume', ['v1', 'v2']);
    expect([...s.cachedOverlays('volume', ['v2', 'v1'])!.keys()]).toEqual(['v2', 'v1']);
    expect(s.cachedOverlays('volume', ['v1', 'v3'])).toBeUndefined();
    expect(s.cachedOverlays('snapshot', ['v1'])).toBeUndefined();
    await inner.createJob(exportJob('v1'));
    expect(s.cachedOverlays('volume', ['v1'])).toBeUndefined();
    expect(s.cachedOverlays('volume', ['v2'])!.get('v2')!.status).toBeNull();
    await s.overlays('volume', ['v1']);
    expect(s.cachedOverlays('volume', ['v1'])!.get('v1')!.status).toBe('exporting');
  });

  it('keeps volumes and snapshots apart: one id, two entries, a change to one leaves the other cached', async () => {
    const inner = sqlite();
    const s = new CachedStateStore(inner, 100);
    const reads: string[] = [];
    const overlays = inner.overlays.bind(inner);
    inner.overlays = (type, ids) => { reads.push(type); return overlays(type, ids); };
    await s.overlays('volume', ['x1']);
    await s.overlays('snapshot', ['x1']);
    await inner.createJob(exportJob('x1')); // the volume x1 changes, the snapshot x1 does not
    expect((await s.overlays('volume', ['x1'])).get('x1')!.status).toBe('exporting');
    expect((await s.overlays('snapshot', ['x1'])).get('x1')!.status).toBeNull();
    expect(reads).toEqual(['volume', 'snapshot', 'volume']);
  });

  it('never serves decisions from the cache: overlay and activeJobFor read the store', async () => {
    const inner = sqlite();
    const s = new CachedStateStore(inner, 100);
    await s.overlays('volume', ['v1']);
    const unsubscribed = new CachedStateStore(Object.assign(Object.create(inner) as StateStore, { subscribe: () => () => {} }), 100);
    await unsubscribed.overlays('volume', ['v1']);
    await inner.createJob(exportJob('v1'));
    expect((await unsubscribed.overlays('volume', ['v1'])).get('v1')!.status).toBeNull(); // cached, never told
    expect((await unsubscribed.overlay('volume', 'v1')).status).toBe('exporting');
    expect(await unsubscribed.activeJobFor('volume', 'v1')).toBeDefined();
  });
});

describe('durability and upgrade', () => {
  it('keeps jobs and backup_status across close and reopen', async () => {
    const clock = testClock();
    const a = new SqliteStateStore(join(dir, 'state.db'), { now: clock.now });
    const j = (await a.createJob(exportJob('v1')))!;
    const k = (await a.createJob(exportJob('v2')))!;
    await a.claimNext({ owner: 'a', backends: ['nfs'], leaseMs: 60_000 });
    await a.renewLease(j.id, { owner: 'a', leaseMs: 60_000, bytesDone: 250 });
    await a.finishJob(k.id, { state: 'succeeded', fileName: 'f.tgz' });
    await a.close();
    const b = sqlite(clock.now, 'state.db');
    expect((await b.listJobs({ unfinishedOnly: true })).map((x) => x.id)).toEqual([j.id]);
    expect(await b.getJob(j.id)).toMatchObject({ state: 'running', owner: 'a', bytesDone: 250, params: { volumeId: 'v1', sizeGiB: 1, host: null } });
    expect(await b.getJob(k.id)).toMatchObject({ state: 'succeeded', fileName: 'f.tgz' });
    expect((await b.overlay('volume', 'v2')).backupStatus).toMatch(/^Export completed at /);
    expect(await b.overlay('volume', 'v1')).toMatchObject({ status: 'exporting', progress: '25%' });
  });

  it('upgrades a file the first releases wrote, keeping its jobs and the one-job-per-volume rule', async () => {
    const path = join(dir, 'old.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE jobs (id TEXT PRIMARY KEY, kind TEXT NOT NULL, resource_type TEXT NOT NULL, resource_id TEXT NOT NULL,
      project_id TEXT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL, file_name TEXT, bytes_done INTEGER NOT NULL DEFAULT 0,
      bytes_total INTEGER NOT NULL DEFAULT 0, error TEXT, request_id TEXT, created_at TEXT NOT NULL, started_at TEXT,
      finished_at TEXT, seq INTEGER NOT NULL);
      CREATE UNIQUE INDEX jobs_one_active ON jobs(resource_type, resource_id) WHERE state IN ('queued', 'running');
      CREATE TABLE backup_status (resource_type TEXT NOT NULL, resource_id TEXT NOT NULL, backup_status TEXT NOT NULL,
      status_override TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (resource_type, resource_id));
      INSERT INTO jobs VALUES ('old-1', 'snapshot-export', 'snapshot', 's1', 'p', 'running', '{"volumeId":"v1","snapshotId":"s1","sizeGiB":1,"host":null}',
        NULL, 5, 10, NULL, NULL, '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:01.000Z', NULL, 1);`);
    old.close();
    const s = new SqliteStateStore(path);
    open.push(s);
    expect(await s.getJob('old-1')).toMatchObject({ state: 'running', owner: null, backend: '', bytesDone: 5, cancelRequested: false });
    expect(await s.createJob(exportJob('v1'))).toBeNull();
    expect(await s.overlay('snapshot', 's1')).toMatchObject({ status: 'exporting', progress: '50%' });
  });
});
