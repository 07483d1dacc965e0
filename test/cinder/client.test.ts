import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCinderClient, callerHeaders } from '../../src/cinder/client.js';
import { silentLogger } from '../../src/log.js';
import { UpstreamError, type CallerContext } from '../../src/cinder/types.js';
import { fixture, fixtureJson } from '../helpers/fixtures.js';
import { testConfig } from '../helpers/servers.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const VOL = '094098e3-67cd-4a57-a683-a518cb8020db';
const SNAP = '83dfb006-0751-464b-9eae-96fd15d6e95b';
const UPSTREAM = 'http://cinder.test:8776';

const caller: CallerContext = {
  requestId: 'req-11111111-2222-3333-4444-555555555555',
  headers: {
    'x-auth-token': 'tok', 'openstack-api-version': 'volume 3.0', host: 'proxy:9776', 'content-length': '12',
    'content-type': 'application/json', connection: 'keep-alive', 'transfer-encoding': 'chunked',
    'x-openstack-request-id': 'req-from-caller',
  },
};

const versionsV3 = { apiVersionFor: async () => 'v3' as const };
const versionsV2 = { apiVersionFor: async () => 'v2' as const };

function client(versions: { apiVersionFor(v: 'v2' | 'v3'): Promise<'v2' | 'v3'> } = versionsV3, upstream: Record<string, unknown> = {}, url = UPSTREAM) {
  const c = createCinderClient({ config: testConfig(url, upstream), logger: silentLogger(), versions });
  clients.push(c);
  return c;
}
const clients: Array<{ close(): void }> = [];

beforeEach(() => { nock.disableNetConnect(); });
afterEach(() => { nock.cleanAll(); nock.enableNetConnect(); while (clients.length) clients.pop()!.close(); });

describe('cinder client', () => {
  it('gets a volume with the caller credentials and our request id, on /v3 when the upstream has no v2', async () => {
    const scope = nock(UPSTREAM, {
      reqheaders: {
        'x-auth-token': 'tok', 'openstack-api-version': 'volume 3.0',
        'x-openstack-request-id': caller.requestId, accept: 'application/json',
      },
      badheaders: ['content-type', 'transfer-encoding', 'content-length'],
    }).get(`/v3/${P}/volumes/${VOL}`).reply(200, fixtureJson('volume-get'));
    const volume = await client().getVolume(P, VOL, caller);
    expect(volume.id).toBe(VOL);
    expect(volume['os-vol-host-attr:host']).toBe('cinder-local@nfs1#nfs1');
    scope.done();
  });

  it('uses /v2 paths when the upstream serves v2', async () => {
    const scope = nock(UPSTREAM).get(`/v2/${P}/snapshots/${SNAP}`).reply(200, fixtureJson('snapshot-get'));
    const snap = await client(versionsV2).getSnapshot(P, SNAP, caller);
    expect(snap.volume_id).toBe(VOL);
    scope.done();
  });

  it('throws UpstreamError with the raw status, headers and body for a non-2xx answer', async () => {
    const f = fixture('error-404-volume');
    nock(UPSTREAM).get(`/v3/${P}/volumes/${VOL}`).reply(404, f.body, Object.fromEntries(f.headers));
    const err = await client().getVolume(P, VOL, caller).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    const u = err as UpstreamError;
    expect(u.status).toBe(404);
    expect(u.body.equals(f.body)).toBe(true);
    expect(u.headers['x-openstack-request-id']).toBe(f.headers.find(([k]) => k === 'X-Openstack-Request-Id')![1]);
  });

  it('lists the snapshots of a volume, filtering again on volume_id', async () => {
    const other = { ...fixtureJson('snapshots-detail').snapshots[0], id: 'other', volume_id: 'another-volume' };
    const scope = nock(UPSTREAM).get(`/v3/${P}/snapshots`).query({ volume_id: VOL })
      .reply(200, { snapshots: [...fixtureJson('snapshots-detail').snapshots, other] });
    const list = await client().listVolumeSnapshots(P, VOL, caller);
    expect(list.map((s) => s.id)).toEqual([SNAP]);
    scope.done();
  });

  it('copies only identity and API headers of the caller', () => {
    const h = callerHeaders(caller);
    expect(h).toEqual({
      accept: 'application/json', 'x-openstack-request-id': caller.requestId, 'x-auth-token': 'tok', 'openstack-api-version': 'volume 3.0',
    });
  });
});
