// /v2 in front of this v3-only Cinder (Zed has no v2): the proxy translates.
import { afterAll, describe, expect, it } from 'vitest';
import {
  E, P, TS, archivesOf, cinder, cleanup, createSnapshot, createVolume, proxy, show, waitBackupStatus,
} from './helpers.js';

afterAll(cleanup);

describe('/v2/{project}/... against a v3-only Cinder', () => {
  it('Cinder itself has no v2', async () => {
    const a = await cinder('GET', `/v2/${P}/volumes`);
    expect(a.status).toBe(404);
  });

  it('version discovery lists v2 as well', async () => {
    const a = await proxy('GET', '/', { token: null });
    expect([200, 300]).toContain(a.status);
    const ids = (a.json.versions as { id: string }[]).map((v) => v.id);
    expect(ids).toContain('v3.0');
    expect(ids.some((id) => id.startsWith('v2'))).toBe(true);
  });

  it('list, detail, show (links rewritten to /v2/), extensions', async () => {
    const vol = await createVolume('e2e-v2-read');
    const list = await proxy('GET', `/v2/${P}/volumes`);
    expect(list.status, show(list)).toBe(200);
    const inList = list.json.volumes.find((v: any) => v.id === vol.id);
    expect(inList).toBeTruthy();
    expect(inList.links.every((l: any) => !l.href.includes('/v3/'))).toBe(true);
    expect(inList.links.some((l: any) => l.href.includes(`/v2/${P}/volumes/${vol.id}`))).toBe(true);

    const detail = await proxy('GET', `/v2/${P}/volumes/detail`);
    expect(detail.status, show(detail)).toBe(200);
    const inDetail = detail.json.volumes.find((v: any) => v.id === vol.id);
    expect(inDetail).toHaveProperty('wrs-volume:backup_status', null);
    expect(inDetail.status).toBe('available');

    const one = await proxy('GET', `/v2/${P}/volumes/${vol.id}`);
    expect(one.status, show(one)).toBe(200);
    expect(one.json.volume).toMatchObject({ id: vol.id, 'wrs-volume:backup_status': null });

    const ext = await proxy('GET', `/v2/${P}/extensions`);
    expect(ext.status, show(ext)).toBe(200);
    const aliases = (ext.json.extensions as { alias: string }[]).map((x) => x.alias);
    expect(aliases).toEqual(expect.arrayContaining(['wrs-volume', 'wrs-snapshot']));
    expect(aliases.length).toBeGreaterThan(2);
  });

  it('the three actions: export, import, snapshot export', async () => {
    const vol = await createVolume('e2e-v2-actions');
    const v2 = (id: string, body: unknown) => proxy('POST', `/v2/${P}/volumes/${id}/action`, { body });

    const ex = await v2(vol.id, { 'wrs-volume:os-volume_export': null });
    expect(ex.status, show(ex)).toBe(202);
    await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { ver: 'v2' });
    const [name] = await archivesOf(E.exportDir, vol.id);
    expect(name).toBeTruthy();

    const im = await v2(vol.id, { 'wrs-volume:os-volume_import': { file_name: name } });
    expect(im.status, show(im)).toBe(202);
    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Import completed at ${TS}$`), { ver: 'v2' });
    expect(done.status).toBe('available');

    const snap = await createSnapshot(vol.id, 'e2e-v2-snap');
    // the key the 2015 doc's request table names
    const se = await proxy('POST', `/v2/${P}/snapshots/${snap.id}/action`, { body: { 'wrs-snapshot:os-snapshot_export': null } });
    expect(se.status, show(se)).toBe(202);
    const s = await waitBackupStatus('snapshot', snap.id, new RegExp(`^Export completed at ${TS}$`), { ver: 'v2' });
    expect(s.status).toBe('available');
    const sd = await proxy('GET', `/v2/${P}/snapshots/detail`);
    expect(sd.status, show(sd)).toBe(200);
    expect(sd.json.snapshots.find((x: any) => x.id === snap.id)['wrs-snapshot:backup_status']).toMatch(/^Export completed at /);
    expect((await archivesOf(E.exportDir, vol.id)).length).toBe(2);
  });
});
