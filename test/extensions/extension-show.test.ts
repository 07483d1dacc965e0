import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, TOKEN } from '../helpers/fake-cinder.js';
import { request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';
import { extensionDescriptions, findAction } from '../../src/extensions/index.js';

let h: Harness;
beforeEach(async () => { h = await startHarness(); });

const WRS_VOLUME = {
  alias: 'wrs-volume', name: 'WrsVolumeExport', namespace: 'http://docs.windriver.com/volume/ext/wrs-volume/api/v1.0',
  updated: '2014-08-11T00:00:00+00:00', description: 'Enable volume export/import', links: [],
};
const WRS_SNAPSHOT = {
  alias: 'wrs-snapshot', name: 'WrsSnapshotExportAction', namespace: 'http://docs.windriver.com/volume/ext/wrs-snapshot/api/v1.0',
  updated: '2014-08-16T00:00:00+00:00', description: 'Enable snapshot export to file', links: [],
};

describe('extension show', () => {
  it.each([['v2', 'wrs-volume', WRS_VOLUME], ['v3', 'wrs-volume', WRS_VOLUME], ['v2', 'wrs-snapshot', WRS_SNAPSHOT],
    ['v3', 'wrs-snapshot', WRS_SNAPSHOT]])('GET /%s/{project}/extensions/%s is answered locally', async (v, alias, ext) => {
    const res = await request(`${h.url}/${v}/${PROJECT}/extensions/${alias}`, { headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(res.json()).toEqual({ extension: ext });
    expect(h.fake.requestsTo('GET', `/${v}`)).toHaveLength(0);
  });

  it('forwards other aliases upstream', async () => {
    const res = await request(`${h.url}/v3/${PROJECT}/extensions/os-admin-actions`, { headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(202); // what the fake answers for anything it does not know
    expect(h.fake.requestsTo('GET', `/v3/${PROJECT}/extensions/os-admin-actions`)).toHaveLength(1);
  });

  it('lists both descriptions for the forwarder to append', () => {
    expect(extensionDescriptions()).toEqual([WRS_VOLUME, WRS_SNAPSHOT]);
  });

  it('finds only our own action keys, on the right resource', () => {
    expect(findAction('volume', { 'wrs-volume:os-volume_export': null })?.key).toBe('wrs-volume:os-volume_export');
    expect(findAction('volume', { 'wrs-snapshot:os-export_snapshot': null })).toBeUndefined();
    expect(findAction('snapshot', { 'wrs-snapshot:os-snapshot_export': null })?.key).toBe('wrs-snapshot:os-snapshot_export');
    expect(findAction('volume', { toString: 1, constructor: 2 })).toBeUndefined();
  });
});
