import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, SNAPSHOT_ID, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';

let h: Harness;
beforeEach(async () => { h = await startHarness(); h.fake.addSnapshot(); });

const snapAction = (body: unknown, id = SNAPSHOT_ID, token = TOKEN) =>
  request(`${h.url}/v2/${PROJECT}/snapshots/${id}/action`, { method: 'POST', headers: jsonHeaders(token), body: JSON.stringify(body) });

describe('wrs-snapshot export', () => {
  it.each(['wrs-snapshot:os-export_snapshot', 'wrs-snapshot:os-snapshot_export'])('answers 202 to %s', async (key) => {
    const res = await snapAction({ [key]: null });
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({
      'wrs-snapshot:os-export_snapshot': {
        id: SNAPSHOT_ID, updated_at: '2026-11-27T02:38:10.782556', status: 'exporting',
        display_description: 's', volume_size: 1, volume_type: '__DEFAULT__',
      },
    });
    const job = h.engine.submitted[0]!;
    expect(job).toMatchObject({ kind: 'snapshot-export', resourceType: 'snapshot', resourceId: SNAPSHOT_ID, projectId: PROJECT });
    expect(job.params).toMatchObject({ volumeId: VOLUME_ID, snapshotId: SNAPSHOT_ID, sizeGiB: 1, host: 'cinder-local@nfs1#nfs1' });
    // the parent volume's metadata, so the archive imports into the parent
    expect((job.params.meta as any)['volume-base-metadata'].id).toBe(VOLUME_ID);
    expect(h.store.overlay('snapshot', SNAPSHOT_ID)).toMatchObject({ status: 'exporting', backupStatus: expect.stringMatching(/^Export started at /) });
    const parent = h.store.overlay('volume', VOLUME_ID);
    expect(parent.backupStatus).toMatch(/^Snapshot export started at /);
    expect(parent.status).toBeNull();
  });

  it.each(['creating', 'error', 'deleting'])('refuses a snapshot in status %s', async (status) => {
    h.fake.snapshots.get(SNAPSHOT_ID)!.status = status;
    const res = await snapAction({ 'wrs-snapshot:os-export_snapshot': null });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ badRequest: { code: 400, message: 'Invalid snapshot: Snapshot status must be available.' } });
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('refuses a second export of the same snapshot', async () => {
    expect((await snapAction({ 'wrs-snapshot:os-export_snapshot': {} })).status).toBe(202);
    const res = await snapAction({ 'wrs-snapshot:os-export_snapshot': {} });
    expect(res.json().badRequest.message).toBe('Invalid snapshot: Snapshot status must be available.');
  });

  it('passes an upstream 404 through and records nothing', async () => {
    const res = await snapAction({ 'wrs-snapshot:os-export_snapshot': null }, '11111111-1111-1111-1111-111111111111');
    expect(res.status).toBe(404);
    expect(res.json().itemNotFound.message).toBe('Snapshot 11111111-1111-1111-1111-111111111111 could not be found.');
    expect(h.store.listUnfinished()).toHaveLength(0);
  });

  it('passes an upstream 401 through and records nothing', async () => {
    const res = await request(`${h.url}/v3/${PROJECT}/snapshots/${SNAPSHOT_ID}/action`, {
      method: 'POST', body: '{"wrs-snapshot:os-export_snapshot": null}',
    });
    expect(res.status).toBe(401);
    expect(h.store.listUnfinished()).toHaveLength(0);
  });

  it('forwards other snapshot action keys byte for byte', async () => {
    const body = '{ "os-reset_status" :{"status":"available"}  }';
    const res = await request(`${h.url}/v2/${PROJECT}/snapshots/${SNAPSHOT_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body });
    expect(res.status).toBe(202);
    const sent = h.fake.requestsTo('POST', `/v3/${PROJECT}/snapshots/${SNAPSHOT_ID}/action`);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body.toString()).toBe(body);
  });
});
