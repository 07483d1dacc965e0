import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, makeVolumeFile, meta, MiB, newId, recordJob, TEST_REPLICA, waitFinished, waitForJob, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

const SIZE_GIB = 16 / 1024;

async function volumes(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, newId);
  for (const id of ids) await makeVolumeFile(join(h!.volDir, `volume-${id}`), 16 * MiB, [[0, 16 * MiB]]);
  return ids;
}

const exportOf = (id: string) => recordJob(h!.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
const running = (j: { state: string }) => j.state === 'running';

describe('queue and workers', () => {
  it('runs engine.concurrency jobs at once and the rest in order, showing progress while queued/running', async () => {
    h = await harness({}, { concurrency: 1, bandwidthBytesPerSec: 64 * MiB });
    const ids = await volumes(3);
    const jobs = [];
    for (const id of ids) jobs.push(await exportOf(id));
    for (const j of jobs) h.engine.submit(j);
    // while the first runs, the others wait
    expect(await waitForJob(h.store, jobs[0]!.id, running)).toMatchObject({ owner: TEST_REPLICA, state: 'running' });
    expect((await h.store.getJob(jobs[1]!.id))!.state).toBe('queued');
    expect(await h.store.overlay('volume', ids[1]!)).toMatchObject({ status: 'exporting', progress: '0%' });
    const done = [];
    for (const j of jobs) done.push(await waitFinished(h.store, j.id));
    expect(done.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // each started after the previous one finished
    for (let i = 1; i < done.length; i++) expect(done[i]!.startedAt! >= done[i - 1]!.finishedAt!).toBe(true);
    expect(done.every((j) => j.bytesDone === 16 * MiB && j.bytesTotal === 16 * MiB)).toBe(true);
    expect(await h.store.overlay('volume', ids[2]!)).toMatchObject({ status: null, progress: null });
  });

  it('runs two at once with concurrency 2', async () => {
    h = await harness({}, { concurrency: 2, bandwidthBytesPerSec: 64 * MiB });
    const ids = await volumes(3);
    const jobs = [];
    for (const id of ids) jobs.push(await exportOf(id));
    for (const j of jobs) h.engine.submit(j);
    await waitForJob(h.store, jobs[0]!.id, running);
    await waitForJob(h.store, jobs[1]!.id, running);
    expect((await h.store.getJob(jobs[2]!.id))!.state).toBe('queued');
    for (const j of jobs) expect((await waitFinished(h.store, j.id)).state).toBe('succeeded');
  });

  it('claims only jobs whose backend it has', async () => {
    h = await harness({}, { bandwidthBytesPerSec: 64 * MiB });
    const [other, mine] = await volumes(2);
    const foreign = await recordJob(h.store, 'volume-export', { volumeId: other!, meta: meta(other!), sizeGiB: SIZE_GIB }, 'not-here');
    const job = await exportOf(mine!);
    h.engine.submit(job);
    expect((await waitFinished(h.store, job.id)).state).toBe('succeeded');
    await h.engine.pull();
    expect(await h.store.getJob(foreign.id)).toMatchObject({ state: 'queued', owner: null });
  });

  it('runs a job queued before backends had names (its backend empty, as the migration left it) on the backend its host chooses', async () => {
    // two backends: the job's volume is only where the host pattern of the second one points
    h = await harness((dir) => ({
      backends: [
        { name: 'files', type: 'file', volumePath: `${dir}/vols/volume-{id}` },
        { name: 'pool-b', type: 'file', volumePath: `${dir}/pool-b/volume-{id}`, hostPattern: '#pool-b$' },
      ],
    }), { bandwidthBytesPerSec: 64 * MiB });
    const id = newId();
    await mkdir(join(h.dir, 'pool-b'), { recursive: true });
    await makeVolumeFile(join(h.dir, 'pool-b', `volume-${id}`), 16 * MiB, [[0, 16 * MiB]]);
    const legacy = await recordJob(h.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB, host: 'cinder@nfs#pool-b' }, '');
    expect(legacy.backend).toBe('');
    h.engine.submit(legacy);
    expect(await waitFinished(h.store, legacy.id)).toMatchObject({ state: 'succeeded', bytesDone: 16 * MiB });
    expect(await h.store.overlay('volume', id)).toMatchObject({ status: null, backupStatus: expect.stringMatching(/^Export completed at /) });
  });
});

describe('shutdown', () => {
  it('lets jobs finish within the timeout, then aborts and fails them cleanly; queued jobs stay queued', async () => {
    h = await harness({}, { concurrency: 1, bandwidthBytesPerSec: 2 * MiB });
    const ids = await volumes(2);
    const first = await exportOf(ids[0]!);
    const second = await exportOf(ids[1]!);
    h.engine.submit(first);
    await waitForJob(h.store, first.id, (j) => j.bytesDone > 0);
    await h.engine.shutdown(50);
    expect(await h.store.getJob(first.id)).toMatchObject({
      state: 'failed', errorCode: 'shuttingDown', error: `interrupted: replica ${TEST_REPLICA} shut down before the job finished`,
    });
    expect((await h.store.overlay('volume', ids[0]!)).backupStatus).toMatch(/^Export failed at .*Reason: interrupted: replica /);
    expect(await readdir(h.exportDir)).toEqual(['temp']);
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);
    // another replica (or this one restarted) runs it
    expect(await h.store.getJob(second.id)).toMatchObject({ state: 'queued', owner: null });
  });

  it('waits for a job that finishes within the timeout', async () => {
    h = await harness({}, { bandwidthBytesPerSec: 64 * MiB });
    const [id] = await volumes(1);
    const job = await exportOf(id!);
    h.engine.submit(job);
    await waitForJob(h.store, job.id, running);
    await h.engine.shutdown(30_000);
    expect((await h.store.getJob(job.id))!.state).toBe('succeeded');
  });
});

describe('recover', () => {
  it('fails the jobs this replica owned before it restarted and removes only its own temp files', async () => {
    h = await harness({}, {}, undefined, { start: false });
    const vol = newId();
    const snapVol = newId();
    const snap = newId();
    const imp = await recordJob(h.store, 'volume-import', { volumeId: newId(), fileName: 'x.tgz' });
    const snapJob = await recordJob(h.store, 'snapshot-export', { volumeId: snapVol, snapshotId: snap, meta: meta(snapVol) });
    const exp = await exportOf(vol);
    const claim = { backends: ['files'], leaseMs: 60_000 };
    expect((await h.store.claimNext({ owner: TEST_REPLICA, ...claim }))!.id).toBe(imp.id);
    expect((await h.store.claimNext({ owner: TEST_REPLICA, ...claim }))!.id).toBe(snapJob.id);
    expect((await h.store.claimNext({ owner: 'other-replica', ...claim }))!.id).toBe(exp.id);
    await mkdir(join(h.exportDir, 'temp'));
    const mine = `volume-${snapVol}-20200101-000000.tgz.${TEST_REPLICA}.part`;
    await writeFile(join(h.exportDir, 'temp', mine), 'partial');
    await writeFile(join(h.exportDir, 'temp', `volume-${snapVol}-20200101-000000.tgz.sha256.${TEST_REPLICA}.part`), 'partial');
    const theirs = `volume-${vol}-20200101-000000.tgz.other-replica.part`;
    await writeFile(join(h.exportDir, 'temp', theirs), 'partial');
    await writeFile(join(h.exportDir, 'temp', 'keep-me.txt'), 'not ours');

    await h.engine.recover();
    const reason = `interrupted: replica ${TEST_REPLICA} stopped renewing its lease`;
    expect((await h.store.listJobs({ unfinishedOnly: true })).map((j) => j.id)).toEqual([exp.id]);
    expect(await h.store.getJob(imp.id)).toMatchObject({ state: 'failed', error: reason, errorCode: 'interrupted' });
    expect(await h.store.overlay('volume', imp.resourceId)).toMatchObject({ status: 'error', backupStatus: expect.stringMatching(/^Import failed at .*Reason: interrupted: replica /) });
    expect(await h.store.overlay('snapshot', snap)).toMatchObject({ status: null, backupStatus: expect.stringMatching(/^Export failed at .*Reason: interrupted: replica /) });
    expect((await h.store.overlay('volume', snapVol)).backupStatus).toMatch(/^Snapshot export failed at .*Reason: interrupted: replica /);
    // the other replica's job and file are its own business
    expect(await h.store.overlay('volume', vol)).toMatchObject({ status: 'exporting' });
    expect((await readdir(join(h.exportDir, 'temp'))).sort()).toEqual(['keep-me.txt', theirs].sort());
  });

  it('with a store of its own (SQLite under its process lock), fails whatever ran and removes every temp file', async () => {
    h = await harness({}, {}, undefined, { start: false, soleOwner: true });
    const vol = newId();
    const exp = await exportOf(vol);
    await h.store.claimNext({ owner: 'ctl-0:9777', backends: ['files'], leaseMs: 60_000 });
    await mkdir(join(h.exportDir, 'temp'));
    await writeFile(join(h.exportDir, 'temp', `volume-${vol}-20200101-000000.tgz.ctl-0_9777.part`), 'partial');
    await h.engine.recover();
    expect(await h.store.getJob(exp.id)).toMatchObject({ state: 'failed', error: 'interrupted: replica ctl-0:9777 stopped renewing its lease' });
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);
  });
});
