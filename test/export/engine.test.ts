import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, makeVolumeFile, meta, MiB, newId, recordJob, waitFinished, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

const SIZE_GIB = 16 / 1024;

async function volumes(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, newId);
  for (const id of ids) await makeVolumeFile(join(h!.volDir, `volume-${id}`), 16 * MiB, [[0, 16 * MiB]]);
  return ids;
}

describe('queue and workers', () => {
  it('runs engine.concurrency jobs at once and the rest in order, showing progress while queued/running', async () => {
    h = await harness({}, { concurrency: 1, bandwidthBytesPerSec: 64 * MiB });
    const ids = await volumes(3);
    const jobs = ids.map((id) => recordJob(h!.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB }));
    for (const j of jobs) h.engine.submit(j);
    // while the first runs, the others wait
    expect(h.store.getJob(jobs[0]!.id)!.state).toBe('running');
    expect(h.store.getJob(jobs[1]!.id)!.state).toBe('queued');
    expect(h.store.overlay('volume', ids[1]!)).toMatchObject({ status: 'exporting', progress: '0%' });
    const done = [];
    for (const j of jobs) done.push(await waitFinished(h.store, j.id));
    expect(done.map((j) => j.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    // each started after the previous one finished
    for (let i = 1; i < done.length; i++) expect(done[i]!.startedAt! >= done[i - 1]!.finishedAt!).toBe(true);
    expect(done.every((j) => j.bytesDone === 16 * MiB && j.bytesTotal === 16 * MiB)).toBe(true);
    expect(h.store.overlay('volume', ids[2]!)).toMatchObject({ status: null, progress: null });
  });

  it('runs two at once with concurrency 2', async () => {
    h = await harness({}, { concurrency: 2, bandwidthBytesPerSec: 64 * MiB });
    const ids = await volumes(3);
    const jobs = ids.map((id) => recordJob(h!.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB }));
    for (const j of jobs) h.engine.submit(j);
    expect(jobs.map((j) => h!.store.getJob(j.id)!.state)).toEqual(['running', 'running', 'queued']);
    for (const j of jobs) expect((await waitFinished(h.store, j.id)).state).toBe('succeeded');
  });
});

describe('shutdown', () => {
  it('lets jobs finish within the timeout, then aborts and fails them cleanly; later submits fail', async () => {
    h = await harness({}, { concurrency: 1, bandwidthBytesPerSec: 2 * MiB });
    const ids = await volumes(2);
    const [running, queued] = ids.map((id) => recordJob(h!.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB }));
    h.engine.submit(running!);
    h.engine.submit(queued!);
    await sleep(300);
    await h.engine.shutdown(200);
    for (const j of [running!, queued!]) {
      expect(h.store.getJob(j.id)).toMatchObject({ state: 'failed', error: 'interrupted' });
    }
    expect(h.store.overlay('volume', ids[0]!).backupStatus).toMatch(/^Export failed at .*Reason: interrupted$/);
    expect(await readdir(h.exportDir)).toEqual(['temp']);
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);

    const late = newId();
    const lateJob = recordJob(h.store, 'volume-export', { volumeId: late, meta: meta(late), sizeGiB: SIZE_GIB });
    h.engine.submit(lateJob);
    expect(h.store.getJob(lateJob.id)).toMatchObject({ state: 'failed', error: 'the service is shutting down' });
  });

  it('waits for a job that finishes within the timeout', async () => {
    h = await harness({}, { bandwidthBytesPerSec: 64 * MiB });
    const [id] = await volumes(1);
    const job = recordJob(h.store, 'volume-export', { volumeId: id!, meta: meta(id!), sizeGiB: SIZE_GIB });
    h.engine.submit(job);
    await h.engine.shutdown(30_000);
    expect(h.store.getJob(job.id)!.state).toBe('succeeded');
  });
});

describe('recover', () => {
  it('fails every unfinished job of an earlier process as interrupted and removes temp files', async () => {
    h = await harness();
    const vol = newId();
    const snapVol = newId();
    const snap = newId();
    const exp = recordJob(h.store, 'volume-export', { volumeId: vol, meta: meta(vol) });
    h.store.markRunning(exp.id);
    const imp = recordJob(h.store, 'volume-import', { volumeId: newId(), fileName: 'x.tgz' });
    const snapJob = recordJob(h.store, 'snapshot-export', { volumeId: snapVol, snapshotId: snap, meta: meta(snapVol) });
    await mkdir(join(h.exportDir, 'temp'));
    await writeFile(join(h.exportDir, 'temp', `volume-${vol}-20200101-000000.tgz.part`), 'partial');
    await writeFile(join(h.exportDir, 'temp', `volume-${vol}-20200101-000000.tgz.sha256.part`), 'partial');
    await writeFile(join(h.exportDir, 'temp', 'keep-me.txt'), 'not ours');

    await h.engine.recover();
    expect(h.store.listUnfinished()).toEqual([]);
    expect(h.store.getJob(exp.id)).toMatchObject({ state: 'failed', error: 'interrupted' });
    expect(h.store.overlay('volume', vol)).toMatchObject({ status: null, backupStatus: expect.stringMatching(/^Export failed at .*Reason: interrupted$/) });
    expect(h.store.overlay('volume', imp.resourceId)).toMatchObject({ status: 'error', backupStatus: expect.stringMatching(/^Import failed at .*Reason: interrupted$/) });
    expect(h.store.overlay('snapshot', snap)).toMatchObject({ status: null, backupStatus: expect.stringMatching(/^Export failed at .*Reason: interrupted$/) });
    expect(h.store.overlay('volume', snapVol).backupStatus).toMatch(/^Snapshot export failed at .*Reason: interrupted$/);
    expect(snapJob.resourceType).toBe('snapshot');
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual(['keep-me.txt']);
  });
});
