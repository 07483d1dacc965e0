import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, SNAPSHOT_ID, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';
import type { JobKind, ResourceType } from '../../src/state/types.js';
import { microversionAtLeast } from '../../src/extensions/conflicts.js';

describe('microversionAtLeast', () => {
  it.each([['volume 3.66', true], ['volume 3.70', true], ['Volume   latest', true], ['volume 3.65', false], ['volume 3.0', false],
    ['compute 3.70', false], [undefined, false], [['volume 3.67'], true]])('%j -> %s', (header, expected) => {
    expect(microversionAtLeast(header as string | string[] | undefined, 66)).toBe(expected);
  });
});

let h: Harness;
beforeEach(async () => { h = await startHarness(); });

async function hold(kind: JobKind, resourceType: ResourceType = 'volume', resourceId = VOLUME_ID): Promise<void> {
  const job = await h.store.createJob({ kind, resourceType, resourceId, projectId: PROJECT, bytesTotal: 1, backend: 'nfs',
    params: { volumeId: VOLUME_ID, sizeGiB: 1, host: null } });
  expect(job).not.toBeNull();
}

const volAction = (body: string, token = TOKEN) =>
  request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(token), body });
const invalid = (message: string) => ({ badRequest: { code: 400, message } });

const V = VOLUME_ID;
const ACTIONS: [string, string][] = [
  ['os-reserve', 'Invalid volume: Volume status must be available to reserve, but the status is exporting.'],
  ['os-attach', 'Invalid volume: Volume status must be available to reserve, but the status is exporting.'],
  ['os-initialize_connection', 'Invalid volume: Volume status must be available to reserve, but the status is exporting.'],
  ['os-extend', `Invalid volume: Volume ${V} status must be '{'status': 'available'}' to extend, currently exporting.`],
  ['os-retype', 'Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active migration or a consistency group, requested type has to be different that the one from the volume, and for in-use volumes front-end qos specs cannot change.'],
  ['os-migrate_volume', `Invalid volume: Volume ${V} status must be available or in-use, must not be migrating, have snapshots, be replicated, be part of a group and destination host/cluster must be different than the current one`],
  ['os-volume_upload_image', `Invalid volume: Volume ${V} status must be available`],
  ['os-begin_detaching', "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach."],
  ['os-reimage', `Invalid volume: Volume ${V} status must be available or error, but current status is exporting.`],
];

describe('calls refused while a job holds the volume', () => {
  it.each(ACTIONS)('%s gets Cinder\'s own 400', async (key, message) => {
    await hold('volume-export');
    const res = await volAction(JSON.stringify({ [key]: {} }));
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(invalid(message));
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    expect(h.fake.requestsTo('POST', `/v3/${PROJECT}/volumes/${VOLUME_ID}/action`)).toHaveLength(0);
  });

  it('names the status the client sees (importing) and multiattach', async () => {
    await hold('volume-import');
    h.fake.volumes.get(VOLUME_ID)!.multiattach = true;
    const res = await volAction('{"os-reserve": null}');
    expect(res.json()).toEqual(invalid('Invalid volume: Volume status must be available or in-use to reserve, but the status is importing.'));
  });

  it('forwards the same actions when no job holds the volume', async () => {
    for (const [key] of ACTIONS) expect((await volAction(JSON.stringify({ [key]: {} }))).status).toBe(202);
    expect(h.fake.requestsTo('POST', `/v3/${PROJECT}/volumes/${VOLUME_ID}/action`)).toHaveLength(ACTIONS.length);
  });

  it('still forwards harmless actions during a job', async () => {
    await hold('volume-export');
    expect((await volAction('{"os-set_bootable": {"bootable": true}}')).status).toBe(202);
  });

  it('refuses DELETE of the volume', async () => {
    await hold('volume-export');
    const res = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { method: 'DELETE', headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(invalid('Invalid volume: Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.'));
    expect(h.fake.requestsTo('DELETE', '/v3')).toHaveLength(0);
  });

  it('forwards DELETE of a volume no job holds', async () => {
    const res = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { method: 'DELETE', headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(202);
    expect(h.fake.requestsTo('DELETE', `/v3/${PROJECT}/volumes/${VOLUME_ID}`)).toHaveLength(1);
  });

  it.each([[false, 'available'], [true, 'available, in-use'], ['True', 'available, in-use']])(
    'refuses a snapshot of the volume (force %j)', async (force, statuses) => {
      await hold('volume-export');
      const body = JSON.stringify({ snapshot: { volume_id: VOLUME_ID, name: 's', force } });
      const res = await request(`${h.url}/v2/${PROJECT}/snapshots`, { method: 'POST', headers: jsonHeaders(TOKEN), body });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual(invalid(`Invalid volume: Volume ${VOLUME_ID} status must be ${statuses}, but current status is: exporting.`));
    });

  it('refuses a snapshot at microversion 3.66 naming in-use as allowed', async () => {
    await hold('volume-export');
    const body = JSON.stringify({ snapshot: { volume_id: VOLUME_ID } });
    const res = await request(`${h.url}/v3/${PROJECT}/snapshots`, { method: 'POST', body,
      headers: jsonHeaders(TOKEN, { 'openstack-api-version': 'volume 3.66' }) });
    expect(res.json()).toEqual(invalid(`Invalid volume: Volume ${VOLUME_ID} status must be available, in-use, but current status is: exporting.`));
  });

  it('forwards a snapshot of another volume byte for byte', async () => {
    await hold('volume-export');
    const body = '{"snapshot": {"volume_id": "another", "name": "s"}}';
    const res = await request(`${h.url}/v2/${PROJECT}/snapshots`, { method: 'POST', headers: jsonHeaders(TOKEN), body });
    expect(res.status).toBe(202);
    expect(h.fake.requestsTo('POST', `/v3/${PROJECT}/snapshots`)[0]!.body.toString()).toBe(body);
  });

  it('forwards a snapshot create whose body is not JSON (Cinder answers it)', async () => {
    const res = await request(`${h.url}/v2/${PROJECT}/snapshots`, { method: 'POST', headers: jsonHeaders(TOKEN), body: '{oops' });
    expect(res.status).toBe(202);
    expect(h.fake.requestsTo('POST', `/v3/${PROJECT}/snapshots`)[0]!.body.toString()).toBe('{oops');
  });

  it('refuses a v3 attachment of the volume', async () => {
    await hold('volume-export');
    const body = JSON.stringify({ attachment: { volume_uuid: VOLUME_ID, instance_uuid: 'i' } });
    const res = await request(`${h.url}/v3/${PROJECT}/attachments`, { method: 'POST', headers: jsonHeaders(TOKEN), body });
    expect(res.json()).toEqual(invalid(`Invalid volume: Volume ${VOLUME_ID} status must be available or downloading to reserve, but the current status is exporting.`));
  });

  it('refuses DELETE of a snapshot being exported', async () => {
    h.fake.addSnapshot();
    await hold('snapshot-export', 'snapshot', SNAPSHOT_ID);
    const res = await request(`${h.url}/v2/${PROJECT}/snapshots/${SNAPSHOT_ID}`, { method: 'DELETE', headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(invalid('Invalid snapshot: Snapshot status must be available or error and must not be part of a group.'));
  });

  it('asks upstream with the caller\'s credentials first: a caller who cannot see the volume gets 404/401', async () => {
    await hold('volume-export');
    h.fake.volumes.clear();
    const res = await volAction('{"os-extend": {"new_size": 2}}');
    expect(res.status).toBe(404);
    const anon = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { method: 'DELETE' });
    expect(anon.status).toBe(401);
  });
});

describe('os-reset_status after a failed import', () => {
  async function failedImport(): Promise<void> {
    const job = (await h.store.createJob({ kind: 'volume-import', resourceType: 'volume', resourceId: VOLUME_ID, projectId: PROJECT,
      bytesTotal: 1, backend: 'nfs', params: { volumeId: VOLUME_ID, sizeGiB: 1, host: null } }))!;
    await h.store.finishJob(job.id, { state: 'failed', error: 'y', errorCode: 'unknown' });
  }
  const reset = (token = TOKEN) => volAction(JSON.stringify({ 'os-reset_status': { status: 'available' } }), token);

  it('accepted by Cinder, clears the error the proxy laid over the volume', async () => {
    await failedImport();
    const res = await reset();
    expect(res.status).toBe(202);
    expect(h.fake.requestsTo('POST', `/v3/${PROJECT}/volumes/${VOLUME_ID}/action`)).toHaveLength(1);
    expect((await h.store.overlay('volume', VOLUME_ID))).toMatchObject({ status: null, backupStatus: expect.stringMatching(/^Import failed at .*\. Reason: y$/) });
  });

  it('refused by Cinder, leaves the error in place', async () => {
    await failedImport();
    h.fake.forbiddenTokens.add('member-token');
    const res = await reset('member-token');
    expect(res.status).toBe(403);
    expect((await h.store.overlay('volume', VOLUME_ID)).status).toBe('error');
  });
});

describe('calls that would read or write a held volume, named in their body', () => {
  const post = (path: string, body: unknown) =>
    request(`${h.url}/v3/${PROJECT}${path}`, { method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify(body) });

  it.each([
    ['a clone', '/volumes', { volume: { size: 1, source_volid: VOLUME_ID } },
      "Invalid volume: Originating source volume status must be one of 'available, in-use' values"],
    ['a backup', '/backups', { backup: { volume_id: VOLUME_ID, name: 'b' } },
      'Invalid volume: Volume to be backed up must be available or in-use, but the current status is "importing".'],
    ['a restore into it', '/backups/b1/restore', { restore: { volume_id: VOLUME_ID } },
      'Invalid volume: Volume to be restored to must be available'],
    ['a revert to a snapshot', `/volumes/${VOLUME_ID}/action`, { revert: { snapshot_id: 's9' } },
      `Invalid volume: Can't revert volume ${VOLUME_ID} to its latest snapshot s9. Volume's status must be 'available'.`],
  ])('refuses %s during an import', async (_, path, body, message) => {
    await hold('volume-import');
    const res = await post(path, body);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(invalid(message));
    expect(h.fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
  });

  it('forwards them byte for byte when no job holds the volume, and creates that name no volume at all', async () => {
    for (const [path, body] of [['/volumes', { volume: { size: 1, source_volid: VOLUME_ID } }], ['/volumes', { volume: { size: 1 } }],
      ['/backups', { backup: { volume_id: VOLUME_ID } }], ['/backups/b1/restore', { restore: { volume_id: VOLUME_ID } }]] as const) {
      expect((await post(path, body)).status).toBe(202);
    }
    expect(h.fake.requestsTo('POST', `/v3/${PROJECT}/volumes`)[0]!.body.toString()).toBe(JSON.stringify({ volume: { size: 1, source_volid: VOLUME_ID } }));
  });
});
