// The operator's CLI with two replicas on one PostgreSQL database (issue 12): pointed at replica B's
// admin socket, `jobs` lists the export replica A runs, with A as its owner and progress that rises, and
// `cancel` stops it on A within a couple of seconds (A sees the request on its next lease renewal):
// no archive or work file is left, and the volume is `available` again through B and in Cinder itself.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { P, TS, archivesOf, cinder, createVolume, show, volumeFile, waitBackupStatus, waitFor, writeAt } from './helpers.js';
import { act, exportBody, partFiles, replicaFile, startReplica, volumePath, volumeVia, waitPartFile, type Replica } from './replicas.js';

const MiB = 1024 * 1024;
const { work, exportDir, database } = replicaFile('replica-cli');
const replica = (id: string, engine: Record<string, unknown> = {}) =>
  startReplica(id, { database: database(), root: work, exportDir, engine });
/** startReplica gives each replica <work>/<id>/data as its dataDir; the admin socket is in it. */
const socketOf = (r: Replica) => join(work, r.id, 'data', 'admin.sock');

async function jobsVia(r: Replica, ...extra: string[]): Promise<any[]> {
  const c = await runCli(['jobs', '-f', 'json', '--socket', socketOf(r), ...extra]);
  expect(c.code, c.stderr).toBe(0);
  return JSON.parse(c.stdout);
}

/** The replica's JSON log records (pino, one per line). */
function logOf(r: Replica): any[] {
  return readFileSync(r.log, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

describe('the operator CLI on one replica sees and cancels the jobs of another', () => {
  it('jobs through B shows A\'s export (owner A, rising progress); cancel through B stops it on A', async () => {
    const vol = await createVolume('e2e-replica-cli', 1);
    await writeAt(volumeFile(vol.id), 0, Buffer.alloc(4 * MiB, 0x42));
    // A alone first, so that A claims the job; 16 MiB/s keeps it running for a minute
    const a = await replica('replica-a', { bandwidthBytesPerSec: 16 * MiB });
    const started = await act(a, vol.id, exportBody);
    expect(started.status, show(started)).toBe(202);
    await waitPartFile(exportDir, 'the export A claimed');
    const b = await replica('replica-b');

    const runningPast = (bytes: number) => waitFor(`B lists the export past ${bytes} bytes`, async () => {
      const [job, ...rest] = await jobsVia(b);
      expect(rest).toEqual([]);
      return job?.state === 'running' && job.bytesDone > bytes ? job : undefined;
    }, 60_000);
    const first = await runningPast(0);
    expect(first).toMatchObject({ kind: 'volume-export', volumeId: vol.id, owner: 'replica-a', bytesTotal: 1024 * MiB });
    const second = await runningPast(first.bytesDone);
    expect(second.id).toBe(first.id);
    expect(second.percent).toBeGreaterThan(first.percent);
    expect(second.bytesPerSec).toBeGreaterThan(0);
    // A lists the same job: the list is the database's, not the replica's
    expect((await jobsVia(a)).map((j) => [j.id, j.owner])).toEqual([[first.id, 'replica-a']]);

    // the plain table names the owner replica when replicas share the database
    const table = await runCli(['jobs', '--socket', socketOf(b)]);
    expect(table.code, table.stderr).toBe(0);
    const [header, row, ...more] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID +KIND +RESOURCE +STATE +PROGRESS +MB\/S +ETA +STARTED +OWNER$/);
    expect(row).toMatch(new RegExp(`^${first.id} +volume-export +volume ${vol.id} +running +\\d+\\.\\d% .* replica-a$`));
    expect(more).toEqual([]);

    const c = await runCli(['cancel', first.id, '--socket', socketOf(b), '-f', 'json']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    const ended = JSON.parse(c.stdout);
    expect(ended).toMatchObject({ id: first.id, state: 'failed', error: 'cancelled by operator', owner: 'replica-a' });
    expect(ended.bytesDone).toBeLessThan(ended.bytesTotal);

    // B took the request; A, which runs the job, stopped it: within a couple of renewals of the request
    const asked = logOf(b).find((l) => l.msg === 'job cancel requested' && l.jobId === first.id);
    expect(asked, 'B logged the cancel request').toBeDefined();
    expect(Date.parse(ended.finishedAt) - Date.parse(asked.time)).toBeLessThan(2000);
    const stopped = logOf(a).find((l) => l.msg === 'job failed' && l.jobId === first.id);
    expect(stopped, 'A logged the job\'s end').toMatchObject({ code: 'cancelled', reason: 'cancelled by operator' });
    expect(logOf(b).some((l) => l.jobId === first.id && l.msg === 'job started'), 'B never ran it').toBe(false);

    // nothing left: no archive, no work file; the volume as it was, seen through B and by Cinder itself
    expect(await archivesOf(exportDir, vol.id)).toEqual([]);
    expect(partFiles(exportDir)).toEqual([]);
    expect(readdirSync(join(exportDir, 'temp'))).toEqual([]);
    const v = await waitBackupStatus('volume', vol.id, new RegExp(`^Export failed at ${TS}\\. Reason: cancelled by operator$`), { base: b.url });
    expect(v.status).toBe('available');
    expect(v['wrs-volume:backup_progress']).toBeUndefined();
    expect((await volumeVia(a, vol.id, P))['wrs-volume:backup_status']).toBe(v['wrs-volume:backup_status']);
    expect((await cinder('GET', volumePath(vol.id))).json.volume.status).toBe('available');
    expect(await jobsVia(b)).toEqual([]);
    expect((await jobsVia(b, '--all')).map((j) => [j.id, j.state, j.owner])).toEqual([[first.id, 'failed', 'replica-a']]);
  });
});
