import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });

const action = (body: unknown, token = TOKEN, version = 'v2', id = VOLUME_ID) =>
  request(`${h.url}/${version}/${PROJECT}/volumes/${id}/action`, {
    method: 'POST', headers: jsonHeaders(token), body: JSON.stringify(body),
  });

const TS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/;

describe('wrs-volume:os-volume_export', () => {
  it('answers 202 with the spec body, records the job and submits it', async () => {
    const res = await action({ 'wrs-volume:os-volume_export': null });
    expect(res.status).toBe(202);
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(res.json()).toEqual({
      'wrs-volume:os-volume_export': {
        id: VOLUME_ID, updated_at: '2026-11-27T02:38:02.549053', status: 'exporting',
        display_description: 'test volume', size: 1, volume_type: '__DEFAULT__',
      },
    });
    expect(h.engine.submitted).toHaveLength(1);
    const job = h.engine.submitted[0]!;
    expect(job).toMatchObject({ kind: 'volume-export', resourceType: 'volume', resourceId: VOLUME_ID, projectId: PROJECT,
      state: 'queued', bytesTotal: 1024 ** 3, requestId: res.headers['x-openstack-request-id'] });
    expect(job.params).toMatchObject({ volumeId: VOLUME_ID, sizeGiB: 1, host: 'cinder-local@nfs1#nfs1', attached: false });
    expect(job.params.meta).toMatchObject({ version: 1, 'volume-metadata': { k: 'v' } });
    expect((job.params.meta as any)['volume-base-metadata'].id).toBe(VOLUME_ID);
    const overlay = h.store.overlay('volume', VOLUME_ID);
    expect(overlay.status).toBe('exporting');
    expect(overlay.backupStatus).toMatch(/^Export started at /);
    expect(overlay.backupStatus!.slice('Export started at '.length)).toMatch(TS);
  });

  it('checks the volume upstream with the caller\'s own token', async () => {
    await action({ 'wrs-volume:os-volume_export': null });
    const checks = h.fake.requestsTo('GET', `/v3/${PROJECT}/volumes/${VOLUME_ID}`);
    expect(checks).toHaveLength(1);
    expect(checks[0]!.headers['x-auth-token']).toBe(TOKEN);
  });

  it.each([{}, { anything: 1 }, 'x'])('accepts %j as the action value', async (value) => {
    const res = await action({ 'wrs-volume:os-volume_export': value });
    expect(res.status).toBe(202);
    expect(h.engine.submitted).toHaveLength(1);
  });

  it('works under /v3 as well', async () => {
    const res = await action({ 'wrs-volume:os-volume_export': null }, TOKEN, 'v3');
    expect(res.status).toBe(202);
  });

  it.each(['in-use', 'error', 'creating'])('refuses a volume in status %s', async (status) => {
    h.fake.volumes.get(VOLUME_ID)!.status = status;
    const res = await action({ 'wrs-volume:os-volume_export': null });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ badRequest: { code: 400, message: 'Invalid volume: Volume status must be available.' } });
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('refuses a second export while the first holds the volume (overlay status)', async () => {
    expect((await action({ 'wrs-volume:os-volume_export': null })).status).toBe(202);
    const res = await action({ 'wrs-volume:os-volume_export': null });
    expect(res.status).toBe(400);
    expect(res.json().badRequest.message).toBe('Invalid volume: Volume status must be available.');
    expect(h.engine.submitted).toHaveLength(1);
  });

  it('answers the status fault when another request won the race to record a job', async () => {
    await h.close();
    h = await startHarness({ wrapStore: (s) => Object.assign(Object.create(s), { createJob: () => null, overlay: s.overlay.bind(s) }) });
    const res = await action({ 'wrs-volume:os-volume_export': null });
    expect(res.status).toBe(400);
    expect(res.json().badRequest.message).toBe('Invalid volume: Volume status must be available.');
    expect(h.engine.submitted).toHaveLength(0);
  });
});

describe('auth delegation', () => {
  it('passes upstream 404 through unchanged and records nothing', async () => {
    const res = await action({ 'wrs-volume:os-volume_export': null }, TOKEN, 'v2', '00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ itemNotFound: { code: 404, message: 'Volume 00000000-0000-0000-0000-000000000000 could not be found.' } });
    expect(res.headers['x-openstack-request-id']).toBe('req-00000000-0000-0000-0000-00000000f4ce');
    expect(h.engine.submitted).toHaveLength(0);
    expect(h.store.listUnfinished()).toHaveLength(0);
  });

  it('passes upstream 401 (no token) through with its headers', async () => {
    const res = await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"wrs-volume:os-volume_export": null}',
    });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Keystone uri="http://127.0.0.1:5000"');
    expect(res.json().error.message).toBe('The request you have made requires authentication.');
    expect(h.engine.submitted).toHaveLength(0);
    expect(h.store.listUnfinished()).toHaveLength(0);
  });

  it('passes upstream 403 through and records nothing', async () => {
    h.fake.forbiddenTokens.add('member:other');
    const res = await action({ 'wrs-volume:os-volume_export': null }, 'member:other');
    expect(res.status).toBe(403);
    expect(res.json().forbidden.code).toBe(403);
    expect(h.engine.submitted).toHaveLength(0);
    expect(h.store.overlay('volume', VOLUME_ID).backupStatus).toBeNull();
  });
});
