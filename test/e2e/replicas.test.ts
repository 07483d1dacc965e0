// Two proxy replicas on different ports, one PostgreSQL database, one export directory, one real
// Cinder (issue 10): what one replica starts, the other shows and enforces at once; the archive one
// wrote, the other imports; jobs one accepted, the other runs; haproxy in front of both works.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { P, TS, archivesOf, cinder, createVolume, sha256File, show, volumeFile, waitBackupStatus, waitFor, writeAt } from './helpers.js';
import {
  act, exportBody, importBody, partFiles, replicaFile, startHaproxy, startReplica, volumePath, volumeVia, waitPartFile,
} from './replicas.js';

const MiB = 1024 * 1024;
const { work, exportDir, database } = replicaFile('replicas');
const replica = (id: string, engine: Record<string, unknown> = {}) =>
  startReplica(id, { database: database(), root: work, exportDir, engine });

/** cinder/volume/api.py delete(), as Cinder words it. */
const DELETE_REFUSED = 'Invalid volume: Volume status must be available or error or error_restoring or error_extending or ' +
  'error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be ' +
  'disassociated from snapshots after volume transfer.';

/** A 1 GiB volume with random bytes at both ends; returns it and the sha256 of its file. */
async function writtenVolume(name: string): Promise<{ vol: any; sha: string }> {
  const vol = await createVolume(name, 1);
  await writeAt(volumeFile(vol.id), 0, randomBytes(256 * 1024));
  await writeAt(volumeFile(vol.id), 900 * MiB + 17, randomBytes(4096));
  return { vol, sha: await sha256File(volumeFile(vol.id)) };
}

describe('two replicas, one database, one export directory', () => {
  let vol: any;
  let original = '';
  let archive = '';

  it('an export through A: B shows it running with progress, refuses DELETE and a second export, and sees it complete', async () => {
    ({ vol, sha: original } = await writtenVolume('e2e-replicas'));
    // A alone first, so that A is the replica that claims the job; 16 MiB/s leaves B a minute to look
    const a = await replica('replica-a', { bandwidthBytesPerSec: 16 * MiB });
    const started = await act(a, vol.id, exportBody);
    expect(started.status, show(started)).toBe(202);
    await waitPartFile(exportDir, 'the export A claimed');
    const b = await replica('replica-b');

    const running = await waitFor('B shows the export with a progress figure', async () => {
      const v = await volumeVia(b, vol.id, P);
      return v.status === 'exporting' && /^\d{1,3}%$/.test(v['wrs-volume:backup_progress'] ?? '') ? v : undefined;
    }, 30_000);
    expect(running['wrs-volume:backup_status']).toMatch(new RegExp(`^Export started at ${TS}$`));

    const del = await b.call('DELETE', volumePath(vol.id));
    expect(del.status, show(del)).toBe(400);
    expect(del.json.badRequest.message).toBe(DELETE_REFUSED);
    const second = await act(b, vol.id, exportBody);
    expect(second.status, show(second)).toBe(400);
    expect(second.json.badRequest.message).toBe('Invalid volume: Volume status must be available.');
    // the refusals never reached Cinder, which still has the volume as it was
    expect((await cinder('GET', volumePath(vol.id))).json.volume.status).toBe('available');

    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { base: b.url });
    expect(done.status).toBe('available');
    expect(done['wrs-volume:backup_progress']).toBeUndefined();
    const names = await archivesOf(exportDir, vol.id);
    expect(names).toHaveLength(1);
    archive = names[0]!;
    expect(partFiles(exportDir)).toEqual([]);
  });

  it('B imports the archive A wrote: the volume bytes are restored, and A shows the import too', async () => {
    expect(archive, 'needs the export above').not.toBe('');
    const [a, b] = await Promise.all([replica('replica-a'), replica('replica-b')]);
    await writeAt(volumeFile(vol.id), 0, randomBytes(256 * 1024));
    expect(await sha256File(volumeFile(vol.id))).not.toBe(original);

    const started = await act(b, vol.id, importBody(archive));
    expect(started.status, show(started)).toBe(202);
    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Import completed at ${TS}$`), { base: b.url });
    expect(done.status).toBe('available');
    expect(await sha256File(volumeFile(vol.id))).toBe(original);
    expect((await volumeVia(a, vol.id, P))['wrs-volume:backup_status']).toBe(done['wrs-volume:backup_status']);
  });

  it('jobs A accepted while its one worker is busy, or while it is stopped, are run by B', async () => {
    const slow = await createVolume('e2e-busy-slow', 1);
    const second = await createVolume('e2e-busy-second', 1);
    const third = await createVolume('e2e-busy-third', 1);
    // one worker, 4 MiB/s: the first export keeps A busy for minutes
    const a = await replica('replica-a', { concurrency: 1, bandwidthBytesPerSec: 4 * MiB });
    expect((await act(a, slow.id, exportBody)).status).toBe(202);
    const slowPart = await waitPartFile(exportDir, 'A busy with the slow export');

    // busy: B (idle) runs what A accepts meanwhile
    const b = await replica('replica-b');
    const r2 = await act(a, second.id, exportBody);
    expect(r2.status, show(r2)).toBe(202);
    await waitBackupStatus('volume', second.id, new RegExp(`^Export completed at ${TS}$`), { base: a.url });
    expect((await volumeVia(a, slow.id, P)).status, 'A never left the slow export').toBe('exporting');
    expect(partFiles(exportDir)).toContain(slowPart);

    // stopped: with B gone, A accepts a job it has no worker for; A dies; B, started again, runs it
    await b.stop();
    const r3 = await act(a, third.id, exportBody);
    expect(r3.status, show(r3)).toBe(202);
    expect((await volumeVia(a, third.id, P)).status).toBe('exporting');
    expect(await archivesOf(exportDir, third.id)).toEqual([]);
    await a.kill9();
    const b2 = await replica('replica-b');
    await waitBackupStatus('volume', third.id, new RegExp(`^Export completed at ${TS}$`), { base: b2.url });
    expect(await archivesOf(exportDir, third.id)).toHaveLength(1);
    // and the slow export, whose owner died, is failed by B's sweep, not left running
    const failed = await waitBackupStatus('volume', slow.id, / failed at /, { base: b2.url });
    expect(failed['wrs-volume:backup_status']).toMatch(/Reason: interrupted: replica replica-a stopped renewing its lease$/);
  });

  it("Debian's haproxy round-robins over both, and a full export/import cycle works through it", async () => {
    const [a, b] = await Promise.all([replica('replica-a'), replica('replica-b')]);
    const lb = await startHaproxy(work, [a, b]);
    const { vol: v, sha } = await writtenVolume('e2e-haproxy');

    const servedBy: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await lb.call('GET', volumePath(v.id));
      expect(r.status, show(r)).toBe(200);
      expect(r.json.volume).toHaveProperty('wrs-volume:backup_status', null);
      servedBy.push(r.headers.get('x-served-by') ?? '');
    }
    expect(new Set(servedBy)).toEqual(new Set(['replica-a', 'replica-b']));
    expect(servedBy[0]).not.toBe(servedBy[1]);
    expect(servedBy[2]).toBe(servedBy[0]);

    const ex = await lb.call('POST', `${volumePath(v.id)}/action`, exportBody);
    expect(ex.status, show(ex)).toBe(202);
    await waitBackupStatus('volume', v.id, new RegExp(`^Export completed at ${TS}$`), { base: lb.url });
    const [name] = await archivesOf(exportDir, v.id);
    expect(name).toBeDefined();

    await writeAt(volumeFile(v.id), 0, randomBytes(256 * 1024));
    const im = await lb.call('POST', `${volumePath(v.id)}/action`, importBody(name!));
    expect(im.status, show(im)).toBe(202);
    const done = await waitBackupStatus('volume', v.id, new RegExp(`^Import completed at ${TS}$`), { base: lb.url });
    expect(done.status).toBe('available');
    expect(await sha256File(volumeFile(v.id))).toBe(sha);
  });
});
