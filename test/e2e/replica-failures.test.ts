// Two proxy replicas sharing one PostgreSQL database and one export directory, when things break
// (issue 10): a replica killed mid-export, and PostgreSQL out of reach for a while.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  P, TS, archivesOf, cinder, createSnapshot, createVolume, show, volumeFile, waitBackupStatus, waitFor, writeAt, type Answer,
} from './helpers.js';
import {
  LEASE_MS, SWEEP_MS, act, exportBody, partFiles, pgGate, replicaFile, startReplica, volumePath, volumeVia, waitPartFile,
} from './replicas.js';

const MiB = 1024 * 1024;
const { work, exportDir, database } = replicaFile('replica-failures');

describe('a replica dies mid-export', () => {
  it('kill -9 A: B alone fails the job "interrupted" within the lease window, the volume available, nothing left', async () => {
    const vol = await createVolume('e2e-lease', 1);
    await writeAt(volumeFile(vol.id), 0, randomBytes(1 * MiB));
    // 2 MiB/s: the export runs for minutes unless something ends it
    const a = await startReplica('replica-a', { database: database(), root: work, exportDir, engine: { bandwidthBytesPerSec: 2 * MiB } });
    const started = await act(a, vol.id, exportBody);
    expect(started.status, show(started)).toBe(202);
    await waitPartFile(exportDir, "A's export");
    const b = await startReplica('replica-b', { database: database(), root: work, exportDir });
    expect((await volumeVia(b, vol.id, P)).status).toBe('exporting');

    await a.kill9();
    const killedAt = Date.now();
    // lease + one sweep + the 1 s the spec gives a cache, plus slack for a loaded machine
    const window = LEASE_MS + SWEEP_MS + 1000;
    const failed = await waitFor('B shows the export failed', async () => {
      const v = await volumeVia(b, vol.id, P);
      return / failed at /.test(v['wrs-volume:backup_status'] ?? '') ? v : undefined;
    }, window + 30_000);
    const took = Date.now() - killedAt;
    expect(failed['wrs-volume:backup_status']).toMatch(
      new RegExp(`^Export failed at ${TS}\\. Reason: interrupted: replica replica-a stopped renewing its lease$`));
    expect(took, `failed ${took} ms after the kill`).toBeLessThan(window + 5000);
    expect(failed.status).toBe('available');
    expect(failed['wrs-volume:backup_progress']).toBeUndefined();

    expect(partFiles(exportDir), 'the dead replica\'s work file is removed').toEqual([]);
    expect(await archivesOf(exportDir, vol.id)).toEqual([]);
    expect((await cinder('GET', volumePath(vol.id))).json.volume.status).toBe('available');
    // released: B takes a new export of the volume
    const again = await act(b, vol.id, exportBody);
    expect(again.status, show(again)).toBe(202);
    await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { base: b.url });
  });
});

function expect503(a: Answer, what: string): void {
  expect(a.status, `${what}: ${show(a)}`).toBe(503);
  expect(a.json?.serviceUnavailable?.code, what).toBe(503);
  expect(a.json.serviceUnavailable.message, what).toEqual(expect.any(String));
}

describe('PostgreSQL out of reach, then back', () => {
  it('forwarding goes on, state calls answer 503, /readyz names the state, and everything works afterwards', async () => {
    const vol = await createVolume('e2e-pg-down', 1);
    const gate = await pgGate();
    const opts = { database: database(), pgPort: gate.port, root: work, exportDir };
    const [a, b] = await Promise.all([startReplica('replica-a', opts), startReplica('replica-b', opts)]);
    // an archive to import and a snapshot to export while the database is gone
    expect((await act(a, vol.id, exportBody)).status).toBe(202);
    await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { base: b.url });
    const [archive] = await archivesOf(exportDir, vol.id);
    const snap = await createSnapshot(vol.id, 'e2e-pg-down-snap');
    for (const r of [a, b]) expect((await r.call('GET', '/readyz')).status).toBe(200);

    gate.cut();
    for (const r of [a, b]) {
      const ready = await waitFor(`${r.id}: /readyz 503`, async () => {
        const x = await r.call('GET', '/readyz');
        return x.status === 503 ? x : undefined;
      }, 30_000);
      // the answer names the dependency that is down, and only that one
      expect(ready.json, show(ready)).toMatchObject({ upstream: 'ok', state: expect.stringMatching(/^down/) });
      // forwarding goes on: calls that need no state
      const types = await r.call('GET', `/v3/${P}/types`);
      expect(types.status, show(types)).toBe(200);
      const list = await r.call('GET', `/v3/${P}/volumes`);
      expect(list.status, show(list)).toBe(200);
      expect(list.json.volumes.map((v: any) => v.id)).toContain(vol.id);
      // the three actions, a refusal check and the overlay need the state: 503, Cinder's fault body
      expect503(await act(r, vol.id, exportBody), 'volume export');
      expect503(await act(r, vol.id, { 'wrs-volume:os-volume_import': { file_name: archive } }), 'volume import');
      expect503(await r.call('POST', `/v3/${P}/snapshots/${snap.id}/action`, { 'wrs-snapshot:os-export_snapshot': null }), 'snapshot export');
      expect503(await r.call('DELETE', volumePath(vol.id)), 'volume delete (refusal check)');
      expect503(await r.call('POST', `${volumePath(vol.id)}/action`, { 'os-extend': { new_size: 2 } }), 'extend (refusal check)');
      expect503(await r.call('GET', volumePath(vol.id)), 'volume show (overlay)');
      expect503(await r.call('GET', `/v3/${P}/volumes/detail`), 'volumes/detail (overlay)');
    }
    // nothing the proxies refused reached Cinder
    const inCinder = (await cinder('GET', volumePath(vol.id))).json.volume;
    expect(inCinder).toMatchObject({ status: 'available', size: 1 });

    gate.restore();
    for (const r of [a, b]) {
      await waitFor(`${r.id}: /readyz 200 again`, async () => ((await r.call('GET', '/readyz')).status === 200 ? true : undefined), 60_000);
    }
    const types = await a.call('GET', `/v3/${P}/types`);
    expect(types.status).toBe(200);
    const again = await act(a, vol.id, exportBody);
    expect(again.status, show(again)).toBe(202);
    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { base: b.url });
    expect(done.status).toBe('available');
    expect(await archivesOf(exportDir, vol.id)).toHaveLength(2);
    const detail = await b.call('GET', `/v3/${P}/volumes/detail`);
    expect(detail.status, show(detail)).toBe(200);
    expect(detail.json.volumes.find((v: any) => v.id === vol.id)['wrs-volume:backup_status']).toBe(done['wrs-volume:backup_status']);
  });
});
