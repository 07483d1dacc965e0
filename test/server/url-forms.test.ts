import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, SNAPSHOT_ID, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';

// Every spelling of a URL that Cinder's router sends to the same volume (see src/cinder/path.ts) gets
// the same treatment: refused while a job holds the volume, overlaid on GET.

let h: Harness;
beforeEach(async () => { h = await startHarness(); });

const P = PROJECT;
const V = VOLUME_ID;

async function holdVolume(): Promise<void> {
  const job = await h.store.createJob({ kind: 'volume-export', resourceType: 'volume', resourceId: V, projectId: P, bytesTotal: 100,
    backend: 'nfs', params: { volumeId: V, sizeGiB: 1, host: null } });
  expect(job).not.toBeNull();
}

/** What reached the fake Cinder other than the proxy's own GETs. */
const changesUpstream = () => h.fake.requests.filter((r) => r.method !== 'GET' || /_method/.test(r.url));

const DELETES = [
  `/v3/${P}/volumes/${V}.json`,
  `/v3//${P}/volumes/${V}`,
  `/v3/${P}//volumes/${V}`,
  `//v3/${P}/volumes/${V}`,
  `/v3/volumes/${V}`,
  `/v3/volumes/${V}.json`,
  `/%76%33/${P}/volumes/${V}`,
  `/v3/${P}/volumes%2F${V}`,
  `/v3/${P}/volumes/${V.toUpperCase()}`,
  `/v3/${P}/volumes/${V}%20%20`,
  `/v3/${P}/volumes/${V}/`,
  `/v2/${P}/volumes/${V}.json`,
];

const ACTIONS = [
  `/v3/${P}/volumes/${V}/action.json`,
  `/v3/volumes/${V}/action`,
  `/v3//${P}//volumes//${V}//action`,
  `/v3/${P}/volumes/${V}/action/`,
  `/v3/${P}/volumes/${V.toUpperCase()}/action`,
];

describe('while a job holds the volume, every URL form of a change is refused', () => {
  it.each(DELETES)('DELETE %s', async (path) => {
    await holdVolume();
    const res = await request(`${h.url}${path}`, { method: 'DELETE', headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(400);
    expect(res.json().badRequest.message).toMatch(/^Invalid volume: /);
    expect(changesUpstream()).toEqual([]);
  });

  it.each(ACTIONS)('POST %s os-extend', async (path) => {
    await holdVolume();
    const res = await request(`${h.url}${path}`, { method: 'POST', headers: jsonHeaders(TOKEN), body: '{"os-extend": {"new_size": 2}}' });
    expect(res.status).toBe(400);
    expect(res.json().badRequest.message).toMatch(/^Invalid volume: /);
    expect(changesUpstream()).toEqual([]);
  });

  it('refuses a GET that Cinder routes as DELETE (_method in the query)', async () => {
    await holdVolume();
    const res = await request(`${h.url}/v3/${P}/volumes/${V}?_method=DELETE`, { headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(400);
    expect(changesUpstream()).toEqual([]);
  });

  it('refuses a form-encoded POST, whose method Cinder may take from the body', async () => {
    await holdVolume();
    const res = await request(`${h.url}/v3/${P}/volumes/${V}`, { method: 'POST', body: '_method=DELETE',
      headers: { 'x-auth-token': TOKEN, 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual({ badRequest: { code: 400,
      message: `Invalid volume: Volume ${V} is exporting: this request is not accepted until that ends.` } });
    expect(changesUpstream()).toEqual([]);
  });

  it('refuses an unknown change under a held snapshot', async () => {
    h.fake.addSnapshot();
    const job = await h.store.createJob({ kind: 'snapshot-export', resourceType: 'snapshot', resourceId: SNAPSHOT_ID, projectId: P,
      bytesTotal: 1, backend: 'nfs', params: { volumeId: V, snapshotId: SNAPSHOT_ID, sizeGiB: 1, host: null } });
    expect(job).not.toBeNull();
    const res = await request(`${h.url}/v3/${P}/snapshots/${SNAPSHOT_ID}/unknown`, { method: 'PATCH', headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(400);
    expect(res.json().badRequest.message).toMatch(/^Invalid snapshot: Snapshot 83dfb006/);
  });

  it('lets the caller\'s own 404 through first (no 400 about a volume the caller may not see)', async () => {
    await holdVolume();
    h.fake.volumes.delete(V);
    const res = await request(`${h.url}/v3/volumes/${V}/unknown`, { method: 'POST', headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(404);
  });

  it('forwards names, descriptions and metadata (they never touch the data), and changes on other volumes', async () => {
    await holdVolume();
    const other = '11111111-2222-4333-8444-555555555555';
    for (const [method, path] of [['PUT', `/v3/${P}/volumes/${V}`], ['PUT', `/v3/${P}/volumes/${V}/metadata/k`],
      ['DELETE', `/v3/${P}/volumes/${other}.json`], ['POST', `/v3/volumes/${other}/unknown`]] as const) {
      const res = await request(`${h.url}${path}`, { method, headers: jsonHeaders(TOKEN), ...(method === 'DELETE' ? {} : { body: '{}' }) });
      expect(res.status, `${method} ${path}`).toBe(202);
    }
  });
});

describe('every URL form of a read shows the job', () => {
  it.each([
    `/v3/${P}/volumes/${V}`,
    `/v3/${P}/volumes/${V}.json`,
    `/v3//${P}/volumes/${V}`,
    `/v3/volumes/${V}`,
    `/v3/volumes/${V}.json?x=1`,
  ])('GET %s', async (path) => {
    await holdVolume();
    const res = await request(`${h.url}${path}`, { headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(200);
    expect(res.json().volume).toMatchObject({ status: 'exporting', 'wrs-volume:backup_status': expect.stringMatching(/^Export started at /) });
  });

  it.each([`/v3/${P}/volumes/detail.json`, `/v3/volumes/detail`])('GET %s', async (path) => {
    await holdVolume();
    const res = await request(`${h.url}${path}`, { headers: { 'x-auth-token': TOKEN } });
    expect(res.json().volumes[0]).toMatchObject({ id: V, status: 'exporting' });
  });

  it('shows the job through a PUT that Cinder routes as GET (_method in the query)', async () => {
    await holdVolume();
    const res = await request(`${h.url}/v3/${P}/volumes/${V}?_method=GET`, { method: 'PUT', headers: { 'x-auth-token': TOKEN } });
    expect(res.json().volume.status).toBe('exporting');
  });
});

describe('the extensions under every URL form', () => {
  it('starts an export through the project-less form, recording the project Cinder names', async () => {
    const res = await request(`${h.url}/v3/volumes/${V}/action.json`, { method: 'POST', headers: jsonHeaders(TOKEN),
      body: '{"wrs-volume:os-volume_export": null}' });
    expect(res.status).toBe(202);
    expect(h.engine.submitted).toHaveLength(1);
    expect(h.engine.submitted[0]!.projectId).toBe(P);
    expect(h.fake.requestsTo('GET', `/v3/volumes/${V}`)).toHaveLength(1);
  });

  it('answers the extension show with a format suffix and without a project', async () => {
    for (const path of [`/v3/${P}/extensions/wrs-volume.json`, '/v3/extensions/wrs-snapshot']) {
      const res = await request(`${h.url}${path}`, { headers: { 'x-auth-token': TOKEN } });
      expect(res.status).toBe(200);
      expect(res.json().extension.alias).toMatch(/^wrs-/);
    }
  });
});

describe('dot segments, which the forwarder resolves before Cinder sees the path', () => {
  it('refuses a DELETE that resolves to the held volume, and overlays a GET that does', async () => {
    await holdVolume();
    const del = await request(`${h.url}/v3/${P}/snapshots/../volumes/${V}`, { method: 'DELETE', headers: { 'x-auth-token': TOKEN } });
    expect(del.status).toBe(400);
    expect(changesUpstream()).toEqual([]);
    const get = await request(`${h.url}/v3/${P}/volumes/x/%2e%2e/${V}`, { headers: { 'x-auth-token': TOKEN } });
    expect(get.json().volume.status).toBe('exporting');
  });
});
