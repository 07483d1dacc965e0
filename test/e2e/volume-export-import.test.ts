// Volume export and import through the proxy in front of a real Cinder, checked on the real files.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, open, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  E, GiB, P, TS, archivesOf, cleanup, createVolume, proxy, run, sha256File, show, tarMember, volumeFile,
  waitBackupStatus, waitFor, writeAt,
} from './helpers.js';

afterAll(cleanup);

const exportBody = { 'wrs-volume:os-volume_export': null };
const importBody = (file_name: unknown) => ({ 'wrs-volume:os-volume_import': { file_name } });
const action = (id: string, body: unknown) => proxy('POST', `/v3/${P}/volumes/${id}/action`, { body });

describe('volume export then import (real Cinder, NFS driver files)', () => {
  let vol: any;
  let archive = '';
  let original = '';

  it('exports a written volume: the archive holds its exact bytes and its metadata', async () => {
    vol = await createVolume('e2e-roundtrip', 1, { e2e: 'roundtrip' });
    const file = volumeFile(vol.id);
    await writeAt(file, 0, randomBytes(256 * 1024));
    await writeAt(file, 700 * 1024 * 1024 + 123, randomBytes(4096));
    original = await sha256File(file);

    const a = await action(vol.id, exportBody);
    expect(a.status, show(a)).toBe(202);
    const out = a.json['wrs-volume:os-volume_export'];
    expect(out).toMatchObject({ id: vol.id, status: 'exporting', size: 1 });

    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`));
    expect(done.status).toBe('available');

    const names = await archivesOf(E.exportDir, vol.id);
    expect(names).toHaveLength(1);
    expect(names[0]).toMatch(new RegExp(`^volume-${vol.id}-\\d{8}-\\d{6}\\.tgz$`));
    archive = join(E.exportDir, names[0]!);

    const list = await run('tar', ['-tzf', archive]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').sort()).toEqual([`volume-${vol.id}.meta`, `volume-${vol.id}.vol`]);

    const data = await tarMember(archive, `volume-${vol.id}.vol`);
    expect(data.size).toBe(GiB);
    expect(data.sha256).toBe(original);

    const metaRaw = await tarMember(archive, `volume-${vol.id}.meta`, 1 << 20);
    const meta = JSON.parse(metaRaw.head.toString('utf8'));
    expect(meta.version).toBe(1);
    expect(meta['volume-base-metadata']).toMatchObject({ id: vol.id, size: 1, name: 'e2e-roundtrip' });
    expect(meta['volume-metadata']).toEqual({ e2e: 'roundtrip' });
    expect(meta['volume-glance-metadata']).toEqual({});
    expect(meta['volume-attachment-metadata']).toEqual([]);

    // the checksum beside the archive, in `sha256sum -c` form
    const sum = await run('sha256sum', ['-c', `${names[0]}.sha256`], { cwd: E.exportDir });
    expect(sum.code, sum.stdout + sum.stderr).toBe(0);
    // no work files left behind
    expect((await run('find', [join(E.exportDir, 'temp'), '-type', 'f'])).stdout.trim()).toBe('');
  });

  it('imports the archive back over changed bytes: bytes restored, status available', async () => {
    expect(archive, 'needs the export above').not.toBe('');
    await writeAt(volumeFile(vol.id), 0, randomBytes(256 * 1024));
    expect(await sha256File(volumeFile(vol.id))).not.toBe(original);

    const name = archive.slice(E.exportDir.length + 1);
    const a = await action(vol.id, importBody(name));
    expect(a.status, show(a)).toBe(202);
    expect(a.json['wrs-volume:os-volume_import']).toMatchObject({ id: vol.id, status: 'importing' });

    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Import completed at ${TS}$`));
    expect(done.status).toBe('available');
    expect(await sha256File(volumeFile(vol.id))).toBe(original);

    // the detail list carries it too; the summary list does not
    const detail = await proxy('GET', `/v3/${P}/volumes/detail`);
    const inDetail = detail.json.volumes.find((v: any) => v.id === vol.id);
    expect(inDetail['wrs-volume:backup_status']).toMatch(/^Import completed at /);
    expect(inDetail.status).toBe('available');
    const summary = await proxy('GET', `/v3/${P}/volumes`);
    expect(summary.json.volumes.find((v: any) => v.id === vol.id)).not.toHaveProperty('wrs-volume:backup_status');
  });
});

describe('refusals', () => {
  it('import: no file name, a missing file, names that leave the export directory', async () => {
    const vol = await createVolume('e2e-refuse-import');

    const none = await action(vol.id, { 'wrs-volume:os-volume_import': {} });
    expect(none.status, show(none)).toBe(400);
    expect(none.json.badRequest.message).toBe('No file_name was specified in request.');

    const missingName = `volume-${vol.id}-20200101-000000.tgz`;
    const missing = await action(vol.id, importBody(missingName));
    expect(missing.status, show(missing)).toBe(404);
    expect(missing.json.itemNotFound.message).toBe(`File ${missingName} could not be found.`);

    await symlink('/etc/passwd', join(E.exportDir, 'e2e-escape.tgz'));
    await writeFile(join(E.workDir, 'outside.tgz'), 'not an archive');
    for (const bad of ['../outside.tgz', '/etc/passwd', 'temp/../../outside.tgz', 'e2e-escape.tgz']) {
      const a = await action(vol.id, importBody(bad));
      expect(a.status, `${bad}: ${show(a)}`).toBe(400);
      expect(a.json, bad).toHaveProperty('badRequest');
    }

    // nothing was recorded: no backup_status, Cinder's status untouched
    const after = await proxy('GET', `/v3/${P}/volumes/${vol.id}`);
    expect(after.json.volume['wrs-volume:backup_status']).toBeNull();
    expect(after.json.volume.status).toBe('available');
  });

  it('export of an in-use volume (os-reserve + os-attach) is refused with Cinder\'s message', async () => {
    const vol = await createVolume('e2e-in-use');
    const r = await action(vol.id, { 'os-reserve': null });
    expect(r.status, show(r)).toBe(202);
    const at = await action(vol.id, { 'os-attach': { instance_uuid: '3f0e2b1c-8a7d-4e6f-9b5a-1c2d3e4f5a6b', mountpoint: '/dev/vdb' } });
    expect(at.status, show(at)).toBe(202);
    const inUse = await waitFor('in-use', async () => {
      const v = (await proxy('GET', `/v3/${P}/volumes/${vol.id}`)).json.volume;
      return v.status === 'in-use' ? v : undefined;
    });

    const a = await action(vol.id, exportBody);
    expect(a.status, show(a)).toBe(400);
    expect(a.json).toEqual({ badRequest: { code: 400, message: 'Invalid volume: Volume status must be available.' } });
    expect(a.headers.get('x-openstack-request-id')).toBeTruthy();

    // import into in-use: refused on status (the file exists; its content is checked only later)
    const name = `volume-${vol.id}-20200102-000000.tgz`;
    await writeFile(join(E.exportDir, name), 'placeholder');
    const i = await action(vol.id, importBody(name));
    expect(i.status, show(i)).toBe(400);
    expect(i.json.badRequest.message).toBe('Invalid volume: Volume status must be available or error.');
    await unlink(join(E.exportDir, name));

    const d = await action(vol.id, { 'os-detach': { attachment_id: inUse.attachments[0].attachment_id } });
    expect(d.status, show(d)).toBe(202);
    expect(await archivesOf(E.exportDir, vol.id)).toEqual([]);
  });

  it('export of an error volume is refused; import into it runs and fails on another volume\'s archive', async () => {
    const vol = await createVolume('e2e-error');
    const rs = await action(vol.id, { 'os-reset_status': { status: 'error' } });
    expect(rs.status, show(rs)).toBe(202);

    const a = await action(vol.id, exportBody);
    expect(a.status, show(a)).toBe(400);
    expect(a.json.badRequest.message).toBe('Invalid volume: Volume status must be available.');

    // import into `error` is allowed (site restore); an archive of another volume fails the job
    const otherId = randomUUID();
    const name = await gnuTarArchive(otherId, randomBytes(1 << 20));
    const imp = await action(vol.id, importBody(name));
    expect(imp.status, show(imp)).toBe(202);
    const failed = await waitBackupStatus('volume', vol.id, /^Import failed at .* Reason: /);
    expect(failed['wrs-volume:backup_status']).toContain(`Volume ID being imported (${otherId}) does not match destination volume ID (${vol.id})`);
    expect(failed.status).toBe('error');
  });
});

describe('archives made by GNU tar (the original implementation used tar -czf)', () => {
  it('imports one into the volume it names: its bytes land at the start of the volume file', async () => {
    const vol = await createVolume('e2e-gnu-tar');
    const data = randomBytes(1 << 20);
    const name = await gnuTarArchive(vol.id, data);
    const a = await action(vol.id, importBody(name));
    expect(a.status, show(a)).toBe(202);
    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Import completed at ${TS}$`));
    expect(done.status).toBe('available');
    const fh = await open(volumeFile(vol.id), 'r');
    try {
      const head = Buffer.alloc(data.length);
      await fh.read(head, 0, head.length, 0);
      expect(head.equals(data)).toBe(true);
    } finally { await fh.close(); }
  });
});

/** Build `volume-<id>-20200101-000000.tgz` in the export directory with GNU tar, as the original did. */
async function gnuTarArchive(volumeId: string, data: Buffer): Promise<string> {
  const dir = await mkdtemp(join(E.workDir, 'gnutar-'));
  await writeFile(join(dir, `volume-${volumeId}.vol`), data);
  await writeFile(join(dir, `volume-${volumeId}.meta`), JSON.stringify({
    version: 1,
    'volume-base-metadata': { id: volumeId, size: 1, display_name: 'from-gnu-tar', status: 'available' },
    'volume-metadata': {}, 'volume-glance-metadata': {}, 'volume-attachment-metadata': [],
  }));
  const name = `volume-${volumeId}-20200101-000000.tgz`;
  const r = await run('tar', ['-czf', join(E.exportDir, name), '-C', dir, `volume-${volumeId}.vol`, `volume-${volumeId}.meta`]);
  if (r.code !== 0) throw new Error(`tar -czf: ${r.stderr}`);
  return name;
}
