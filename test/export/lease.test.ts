import { readdir, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { testClock } from '../state/store-contract.js';
import { harness, makeVolumeFile, meta, MiB, newId, recordJob, TEST_REPLICA, waitFinished, waitForJob, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

const SIZE_GIB = 16 / 1024;
const LEASE = { leaseMs: 15_000, renewMs: 20, sweepIntervalMs: 60_000 };
const slow = { bandwidthBytesPerSec: 2 * MiB };

async function volume(): Promise<string> {
  const id = newId();
  await makeVolumeFile(join(h!.volDir, `volume-${id}`), 16 * MiB, [[0, 16 * MiB]]);
  return id;
}

const temp = () => readdir(join(h!.exportDir, 'temp'));
const archives = async () => (await readdir(h!.exportDir)).filter((n) => n !== 'temp');

describe('leases and sweeps', () => {
  it('fails the job of a replica that stopped renewing, removes its temp files only, releases the volume', async () => {
    const clock = testClock();
    // this replica does not pull work here: the job is the dead one's
    h = await harness({ state: LEASE }, {}, undefined, { now: clock.now, start: false });
    const id = await volume();
    const job = await recordJob(h.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    await h.store.claimNext({ owner: 'dead:9776', backends: ['files'], leaseMs: LEASE.leaseMs });
    const name = `volume-${id}-20261127-030000.tgz`;
    await h.store.setFileName(job.id, name);
    await mkdir(join(h.exportDir, 'temp'), { recursive: true });
    await writeFile(join(h.exportDir, 'temp', `${name}.dead_9776.part`), 'partial');
    await writeFile(join(h.exportDir, 'temp', `other.tgz.alive_9776.part`), 'someone else is writing this');

    clock.advance(LEASE.leaseMs - 1);
    await h.engine.sweep();
    expect((await h.store.getJob(job.id))!.state).toBe('running');
    clock.advance(1);
    await h.engine.sweep();
    const reason = 'interrupted: replica dead:9776 stopped renewing its lease';
    expect(await h.store.getJob(job.id)).toMatchObject({ state: 'failed', error: reason, errorCode: 'interrupted' });
    expect(await h.store.overlay('volume', id)).toEqual({
      backupStatus: `Export failed at 2026-11-27 03:00:15.123000. Reason: ${reason}`, status: null, progress: null,
    });
    expect(await temp()).toEqual(['other.tgz.alive_9776.part']);
    expect(await h.store.createJob({ ...job, backend: 'files' })).not.toBeNull();
  });

  it('a replica that lost its lease stops its job and publishes nothing', async () => {
    const clock = testClock();
    h = await harness({ state: LEASE }, slow, undefined, { now: clock.now });
    const id = await volume();
    const job = await recordJob(h.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    h.engine.submit(job);
    await waitForJob(h.store, job.id, (j) => j.bytesDone > 0);
    // paused past its lease: another replica's sweep fails the job; this one finds out on its next renewal
    clock.advance(LEASE.leaseMs);
    await h.engine.sweep();
    await h.engine.idle();
    expect(await h.store.getJob(job.id)).toMatchObject({ state: 'failed', errorCode: 'interrupted' });
    expect(await archives()).toEqual([]);
    expect(await temp()).toEqual([]);
  });
});

describe('cancel', () => {
  it('an import cancelled from anywhere stops at the next renewal, leaving the volume in error', async () => {
    h = await harness({ state: LEASE }, slow);
    const id = await volume();
    const exp = await recordJob(h.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    h.engine.submit(exp);
    const exported = await waitFinished(h.store, exp.id);
    expect(exported.state).toBe('succeeded');
    const imp = await recordJob(h.store, 'volume-import', { volumeId: id, fileName: exported.fileName!, sizeGiB: SIZE_GIB });
    h.engine.submit(imp);
    await waitForJob(h.store, imp.id, (j) => j.bytesDone > 0);
    expect(await h.store.requestCancel(imp.id)).toBe(true);
    expect(await waitFinished(h.store, imp.id)).toMatchObject({ state: 'failed', error: 'cancelled by operator', errorCode: 'cancelled' });
    expect(await h.store.overlay('volume', id)).toMatchObject({
      status: 'error', backupStatus: expect.stringMatching(/^Import failed at .*\. Reason: cancelled by operator$/),
    });
  });

  it('an export cancelled in this process stops at once and leaves no file', async () => {
    h = await harness({ state: LEASE }, slow);
    const id = await volume();
    const job = await recordJob(h.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    h.engine.submit(job);
    await waitForJob(h.store, job.id, (j) => j.bytesDone > 0 && j.owner === TEST_REPLICA);
    expect(h.engine.cancelLocal!(job.id)).toBe(true);
    expect(await waitFinished(h.store, job.id)).toMatchObject({ state: 'failed', errorCode: 'cancelled' });
    await h.engine.idle();
    expect(await archives()).toEqual([]);
    expect(await temp()).toEqual([]);
    expect(h.engine.cancelLocal!(job.id)).toBe(false);
  });
});
