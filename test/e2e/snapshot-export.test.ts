// Snapshot export against the real NFS driver: after a snapshot, writes go to a qcow2 overlay and the
// raw file keeps the snapshot's bytes; the archive must hold those, not the live ones.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  E, GiB, P, TS, archivesOf, cleanup, createSnapshot, createVolume, proxy, run, sha256File, show, tarMember,
  volumeFile, waitBackupStatus, writeAt,
} from './helpers.js';

afterAll(cleanup);

describe('snapshot export', () => {
  it('archives the snapshot\'s bytes under the parent volume\'s name; backup_status on both', async () => {
    const vol = await createVolume('e2e-snap-parent', 1, { role: 'parent' });
    const before = randomBytes(128 * 1024);
    const raw = volumeFile(vol.id);
    await writeAt(raw, 0, before);
    const snapshotSha = await sha256File(raw);

    const snap = await createSnapshot(vol.id, 'e2e-snap');
    // the driver now writes to the overlay named in volume-<id>.info
    const info = JSON.parse(await readFile(`${raw}.info`, 'utf8'));
    const active = join(E.volumeDir, info.active);
    expect(active).not.toBe(raw);
    const w = await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 128k', active]);
    expect(w.code, w.stderr).toBe(0);
    const live = await run('qemu-io', ['-r', '-f', 'qcow2', '-c', 'read -P 0x5a 0 128k', active]);
    expect(live.stdout).toContain('read 131072/131072');
    expect(live.stdout + live.stderr).not.toMatch(/fail/i);

    const a = await proxy('POST', `/v3/${P}/snapshots/${snap.id}/action`, { body: { 'wrs-snapshot:os-export_snapshot': {} } });
    expect(a.status, show(a)).toBe(202);
    expect(a.json['wrs-snapshot:os-export_snapshot']).toMatchObject({ id: snap.id, status: 'exporting', volume_size: 1 });

    const s = await waitBackupStatus('snapshot', snap.id, new RegExp(`^Export completed at ${TS}$`));
    expect(s.status).toBe('available');
    const v = await waitBackupStatus('volume', vol.id, new RegExp(`^Snapshot export completed at ${TS}$`));
    expect(v.status).toBe('available');

    const names = await archivesOf(E.exportDir, vol.id);
    expect(names).toHaveLength(1);
    const archive = join(E.exportDir, names[0]!);
    const data = await tarMember(archive, `volume-${vol.id}.vol`, before.length);
    expect(data.size).toBe(GiB);
    expect(data.head.equals(before)).toBe(true);
    expect(data.sha256).toBe(snapshotSha);
    const meta = JSON.parse((await tarMember(archive, `volume-${vol.id}.meta`, 1 << 20)).head.toString('utf8'));
    expect(meta.version).toBe(1);
    expect(meta['volume-base-metadata'].id).toBe(vol.id);
    expect(meta['volume-metadata']).toEqual({ role: 'parent' });

    // the detail lists carry both attributes
    const sd = await proxy('GET', `/v3/${P}/snapshots/detail`);
    expect(sd.json.snapshots.find((x: any) => x.id === snap.id)['wrs-snapshot:backup_status']).toMatch(/^Export completed at /);
    const vd = await proxy('GET', `/v3/${P}/volumes/detail`);
    expect(vd.json.volumes.find((x: any) => x.id === vol.id)['wrs-volume:backup_status']).toMatch(/^Snapshot export completed at /);

    // import into a volume that has snapshots is refused
    const imp = await proxy('POST', `/v3/${P}/volumes/${vol.id}/action`, {
      body: { 'wrs-volume:os-volume_import': { file_name: names[0] } },
    });
    expect(imp.status, show(imp)).toBe(400);
    expect(imp.json.badRequest.message).toBe('Invalid volume: Volume has 1 dependent snapshots');
  });
});
