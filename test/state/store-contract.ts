import { describe, expect, it } from 'vitest';
import type { NewJob, StateStore, StoreEvent } from '../../src/state/types.js';

/** A settable clock (epoch ms) shared by the store under test and the test. */
export interface TestClock { now: () => number; set(ms: number): void; advance(ms: number): void }

export function testClock(start = Date.parse('2026-11-27T03:00:00.123Z')): TestClock {
  let t = start;
  return { now: () => t, set: (ms) => { t = ms; }, advance: (ms) => { t += ms; } };
}

/** Makes a fresh, empty store on the given clock; the suite closes it. */
export type StoreFactory = (clock: TestClock) => Promise<StateStore>;

export const exportJob = (volumeId: string, extra: Partial<NewJob> = {}): NewJob => ({
  kind: 'volume-export', resourceType: 'volume', resourceId: volumeId, projectId: 'p', backend: 'nfs',
  params: { volumeId, sizeGiB: 1, host: null }, bytesTotal: 1000, ...extra,
});
const importJob = (volumeId: string) => exportJob(volumeId, { kind: 'volume-import' });
const snapJob = (snapshotId: string, volumeId = 'v1'): NewJob => ({
  kind: 'snapshot-export', resourceType: 'snapshot', resourceId: snapshotId, projectId: 'p', backend: 'nfs',
  params: { volumeId, snapshotId, sizeGiB: 1, host: null }, bytesTotal: 10,
});

const A = { owner: 'replica-a', backends: ['nfs'], leaseMs: 15_000 };
const B = { ...A, owner: 'replica-b' };
const T0 = '2026-11-27 03:00:00.123000';
const failure = (error: string) => ({ state: 'failed' as const, error, errorCode: 'unknown' as const });

/** The store contract: every implementation passes this suite. */
export function storeContract(name: string, factory: StoreFactory): void {
  describe(`${name}: the store contract`, () => {
    const open = async (clock = testClock()) => {
      const s = await factory(clock);
      return { s, clock };
    };

    it('allows one unfinished job per volume (export, import, snapshot export), and a new one once it finished', async () => {
      const { s } = await open();
      try {
        const a = (await s.createJob(exportJob('v1')))!;
        expect(a).toMatchObject({ state: 'queued', resourceId: 'v1', bytesDone: 0, bytesTotal: 1000, fileName: null,
          owner: null, leaseExpiresAt: null, cancelRequested: false, errorCode: null, backend: 'nfs' });
        expect(await s.createJob(exportJob('v1'))).toBeNull();
        expect(await s.createJob(importJob('v1'))).toBeNull();
        expect(await s.createJob(snapJob('s1', 'v1'))).toBeNull();
        expect(await s.createJob(exportJob('v2'))).not.toBeNull();
        expect((await s.activeJobFor('volume', 'v1'))!.id).toBe(a.id);
        await s.claimNext(A);
        expect(await s.createJob(exportJob('v1'))).toBeNull();
        expect(await s.finishJob(a.id, { state: 'succeeded' })).toBe(true);
        expect(await s.activeJobFor('volume', 'v1')).toBeUndefined();
        expect(await s.createJob(exportJob('v1'))).not.toBeNull();
        expect((await s.listJobs({ unfinishedOnly: true })).map((j) => j.resourceId)).toEqual(['v2', 'v1']);
      } finally { await s.close(); }
    });

    it('a snapshot export holds its parent volume, and the reverse; two at once of the same volume are refused', async () => {
      const { s } = await open();
      try {
        const results = await Promise.all([s.createJob(snapJob('s1')), s.createJob(snapJob('s2')), s.createJob(exportJob('v1'))]);
        expect(results.filter((r) => r !== null)).toHaveLength(1);
        const held = results.find((r) => r !== null)!;
        await s.finishJob(held.id, { state: 'succeeded' });
        expect(await s.createJob(exportJob('v1'))).not.toBeNull();
        expect(await s.createJob(snapJob('s1'))).toBeNull();
      } finally { await s.close(); }
    });

    it('writes the started backup_status with the job; a refused job records nothing', async () => {
      const { s } = await open();
      try {
        await s.createJob(snapJob('s1', 'v1'));
        expect(await s.overlay('snapshot', 's1')).toEqual({ backupStatus: `Export started at ${T0}`, status: 'exporting', progress: '0%' });
        expect(await s.overlay('volume', 'v1')).toEqual({ backupStatus: `Snapshot export started at ${T0}`, status: null, progress: null });
        expect(await s.createJob(importJob('v1'))).toBeNull();
        expect((await s.overlay('volume', 'v1')).backupStatus).toBe(`Snapshot export started at ${T0}`);
      } finally { await s.close(); }
    });

    it('claims in acceptance order, only for backends the replica has, each job once', async () => {
      const { s } = await open();
      try {
        const ceph = (await s.createJob(exportJob('v0', { backend: 'ceph' })))!;
        const first = (await s.createJob(exportJob('v1')))!;
        const second = (await s.createJob(exportJob('v2')))!;
        const [x, y, z] = await Promise.all([s.claimNext(A), s.claimNext(B), s.claimNext(A)]);
        expect([x?.id, y?.id, z?.id].filter(Boolean).sort()).toEqual([first.id, second.id].sort());
        expect((await s.getJob(first.id))!.state).toBe('running');
        expect(await s.claimNext({ ...A, backends: ['ceph', 'nfs'] })).toMatchObject({ id: ceph.id, owner: 'replica-a', state: 'running' });
        expect(await s.claimNext({ ...A, backends: ['ceph', 'nfs'] })).toBeUndefined();
      } finally { await s.close(); }
    });

    it('a claim sets owner and lease; the owner renews it with progress, nobody else can', async () => {
      const { s, clock } = await open();
      try {
        const j = (await s.createJob(importJob('v1')))!;
        const claimed = (await s.claimNext(A))!;
        expect(claimed).toMatchObject({ id: j.id, owner: 'replica-a', heartbeatAt: new Date(clock.now()).toISOString(),
          leaseExpiresAt: new Date(clock.now() + 15_000).toISOString() });
        expect(claimed.startedAt).not.toBeNull();
        clock.advance(1000);
        expect(await s.renewLease(j.id, { owner: 'replica-a', leaseMs: 15_000, bytesDone: 370 })).toEqual({ held: true, cancelRequested: false });
        expect(await s.overlay('volume', 'v1')).toMatchObject({ status: 'importing', progress: '37%' });
        await s.renewLease(j.id, { owner: 'replica-a', leaseMs: 15_000, bytesDone: 500, bytesTotal: 2000 });
        expect((await s.overlay('volume', 'v1')).progress).toBe('25%');
        expect((await s.getJob(j.id))!.leaseExpiresAt).toBe(new Date(clock.now() + 15_000).toISOString());
        expect(await s.renewLease(j.id, { owner: 'replica-b', leaseMs: 15_000, bytesDone: 999 })).toEqual({ held: false, cancelRequested: false });
        expect((await s.getJob(j.id))!.bytesDone).toBe(500);
      } finally { await s.close(); }
    });

    it('a lapsed lease cannot be renewed; a sweep finds it and fails it once, guarded by the lease', async () => {
      const { s, clock } = await open();
      try {
        const j = (await s.createJob(exportJob('v1')))!;
        await s.claimNext(A);
        clock.advance(14_999);
        expect(await s.expiredJobs(clock.now())).toEqual([]);
        clock.advance(1);
        const expired = await s.expiredJobs(clock.now());
        expect(expired.map((e) => e.id)).toEqual([j.id]);
        expect(await s.renewLease(j.id, { owner: 'replica-a', leaseMs: 15_000, bytesDone: 1 })).toMatchObject({ held: false });
        // a sweep whose view is older than the lease does nothing
        expect(await s.finishJob(j.id, { ...failure('late'), leaseExpiredBy: clock.now() - 1 })).toBe(false);
        const reason = 'interrupted: replica replica-a stopped renewing its lease';
        expect(await s.finishJob(j.id, { state: 'failed', error: reason, errorCode: 'interrupted', leaseExpiredBy: clock.now() })).toBe(true);
        expect(await s.finishJob(j.id, { state: 'failed', error: reason, errorCode: 'interrupted', leaseExpiredBy: clock.now() })).toBe(false);
        expect(await s.getJob(j.id)).toMatchObject({ state: 'failed', error: reason, errorCode: 'interrupted' });
        expect(await s.overlay('volume', 'v1')).toEqual({ backupStatus: `Export failed at 2026-11-27 03:00:15.123000. Reason: ${reason}`, status: null, progress: null });
        expect(await s.createJob(exportJob('v1'))).not.toBeNull();
        // a queued job has no lease to expire
        expect(await s.expiredJobs(clock.now() + 10 ** 9)).toEqual([]);
      } finally { await s.close(); }
    });

    it('only the owner finishes a job it names; a job finishes once', async () => {
      const { s } = await open();
      try {
        const j = (await s.createJob(exportJob('v1')))!;
        await s.claimNext(A);
        expect(await s.finishJob(j.id, { state: 'succeeded', owner: 'replica-b' })).toBe(false);
        expect(await s.finishJob(j.id, { ...failure('first'), owner: 'replica-a' })).toBe(true);
        expect(await s.finishJob(j.id, { state: 'succeeded' })).toBe(false);
        expect(await s.getJob(j.id)).toMatchObject({ state: 'failed', error: 'first', errorCode: 'unknown' });
        expect((await s.overlay('volume', 'v1')).backupStatus).toBe(`Export failed at ${T0}. Reason: first`);
        expect(await s.finishJob('no-such-job', { state: 'succeeded' })).toBe(false);
      } finally { await s.close(); }
    });

    it('cancel: a queued job fails at once, a running one is flagged for its owner', async () => {
      const { s } = await open();
      try {
        const running = (await s.createJob(importJob('v1')))!;
        await s.claimNext(A);
        const queued = (await s.createJob(exportJob('v2')))!;
        expect(await s.requestCancel(queued.id)).toBe(true);
        expect(await s.getJob(queued.id)).toMatchObject({ state: 'failed', error: 'cancelled by operator', errorCode: 'cancelled' });
        expect(await s.requestCancel(running.id)).toBe(true);
        expect((await s.getJob(running.id))!.cancelRequested).toBe(true);
        expect(await s.renewLease(running.id, { owner: 'replica-a', leaseMs: 15_000, bytesDone: 1 })).toEqual({ held: true, cancelRequested: true });
        await s.finishJob(running.id, { state: 'failed', error: 'cancelled by operator', errorCode: 'cancelled', owner: 'replica-a' });
        expect(await s.overlay('volume', 'v1')).toEqual({ backupStatus: `Import failed at ${T0}. Reason: cancelled by operator`, status: 'error', progress: null });
        expect(await s.requestCancel(running.id)).toBe(false);
        expect(await s.requestCancel('no-such-job')).toBe(false);
      } finally { await s.close(); }
    });

    it('the import error stays over later exports, goes with a completed import or a status reset', async () => {
      const { s } = await open();
      try {
        const f = (await s.createJob(importJob('v1')))!;
        await s.finishJob(f.id, failure('broken'));
        expect((await s.overlay('volume', 'v1')).status).toBe('error');
        const e = (await s.createJob(exportJob('v1')))!;
        await s.finishJob(e.id, { state: 'succeeded' });
        expect(await s.overlay('volume', 'v1')).toEqual({ backupStatus: `Export completed at ${T0}`, status: 'error', progress: null });
        const i = (await s.createJob(importJob('v1')))!;
        await s.finishJob(i.id, { state: 'succeeded' });
        expect(await s.overlay('volume', 'v1')).toEqual({ backupStatus: `Import completed at ${T0}`, status: null, progress: null });
        const g = (await s.createJob(importJob('v1')))!;
        await s.finishJob(g.id, failure('again'));
        await s.clearStatusOverride('volume', 'v1');
        expect(await s.overlay('volume', 'v1')).toEqual({ backupStatus: `Import failed at ${T0}. Reason: again`, status: null, progress: null });
      } finally { await s.close(); }
    });

    it('reads the overlays of many resources at once, unknown ones included', async () => {
      const { s } = await open();
      try {
        await s.createJob(exportJob('v1'));
        const done = (await s.createJob(exportJob('v2')))!;
        await s.finishJob(done.id, { state: 'succeeded', fileName: 'volume-v2.tgz' });
        const ids = ['v1', 'v2', 'v3', ...Array.from({ length: 1000 }, (_, i) => `x${i}`)];
        const got = await s.overlays('volume', ids);
        expect(got.size).toBe(ids.length);
        expect(got.get('v1')).toEqual({ backupStatus: `Export started at ${T0}`, status: 'exporting', progress: '0%' });
        expect(got.get('v2')).toEqual({ backupStatus: `Export completed at ${T0}`, status: null, progress: null });
        expect(got.get('x999')).toEqual({ backupStatus: null, status: null, progress: null });
        expect((await s.overlays('snapshot', ['v1'])).get('v1')).toEqual({ backupStatus: null, status: null, progress: null });
        expect((await s.overlays('volume', [])).size).toBe(0);
        expect((await s.getJob(done.id))!.fileName).toBe('volume-v2.tgz');
      } finally { await s.close(); }
    });

    it('lists jobs in acceptance order, newest last; limit keeps the newest', async () => {
      const { s, clock } = await open();
      try {
        const ids = [];
        for (const v of ['v1', 'v2', 'v3', 'v4']) { ids.push((await s.createJob(exportJob(v)))!.id); clock.advance(1); }
        await s.finishJob(ids[1]!, { state: 'succeeded' });
        expect((await s.listJobs()).map((j) => j.id)).toEqual(ids);
        expect((await s.listJobs({ limit: 2 })).map((j) => j.id)).toEqual(ids.slice(2));
        expect((await s.listJobs({ unfinishedOnly: true })).map((j) => j.id)).toEqual([ids[0], ids[2], ids[3]]);
        expect((await s.listJobs({ unfinishedOnly: true, limit: 1 })).map((j) => j.id)).toEqual([ids[3]]);
      } finally { await s.close(); }
    });

    it('tells its subscribers which resources changed and that work was queued', async () => {
      const { s } = await open();
      try {
        const events: StoreEvent[] = [];
        const seen = (e: StoreEvent) => events.some((x) => JSON.stringify(x) === JSON.stringify(e));
        const off = s.subscribe((e) => events.push(e));
        await s.createJob(snapJob('s1', 'v1'));
        await waitUntil(() => seen({ kind: 'queued' }) && seen({ kind: 'resource', resourceType: 'volume', resourceId: 'v1' })
          && seen({ kind: 'resource', resourceType: 'snapshot', resourceId: 's1' }), s);
        off();
        await s.ping();
      } finally { await s.close(); }
    });
  });
}

/** Wait for a condition that store events make true (PostgreSQL delivers them asynchronously). */
async function waitUntil(cond: () => boolean, s: StateStore, timeoutMs = 5000): Promise<void> {
  if (cond()) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { off(); reject(new Error('condition not reached')); }, timeoutMs);
    const off = s.subscribe(() => { if (cond()) { clearTimeout(timer); off(); resolve(); } });
  });
}
