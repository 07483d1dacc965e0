import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';

let h: Harness;
beforeEach(async () => { h = await startHarness({ config: { api: { maxActionBodyBytes: 1024 } } }); });

const actionUrl = () => `${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`;
const upstreamActions = () => h.fake.requestsTo('POST', `/v3/${PROJECT}/volumes/${VOLUME_ID}/action`);

describe('action bodies', () => {
  it.each(['{"wrs-volume:os-volume_export": ', 'not json', '[1,2]', '"string"', 'null', ''])(
    'answers 400 badRequest to the body %j', async (body) => {
      const res = await request(actionUrl(), { method: 'POST', headers: jsonHeaders(TOKEN), body });
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({ badRequest: { code: 400, message: 'Malformed request body' } });
      expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
      expect(upstreamActions()).toHaveLength(0);
    });

  it('answers 413 overLimit from Content-Length alone', async () => {
    const body = JSON.stringify({ 'os-set_bootable': { bootable: 'x'.repeat(2000) } });
    const res = await request(actionUrl(), { method: 'POST', headers: jsonHeaders(TOKEN), body });
    expect(res.status).toBe(413);
    expect(res.json()).toEqual({ overLimit: { code: 413, message: 'Request is too large.' } });
    expect(upstreamActions()).toHaveLength(0);
  });

  it('answers 413 to a chunked body once it grows past the limit', async () => {
    const chunks = ['{"os-set_bootable": {"bootable": "', 'x'.repeat(600), 'y'.repeat(600), '"}}'];
    const res = await request(actionUrl(), { method: 'POST', headers: jsonHeaders(TOKEN), body: chunks });
    expect(res.status).toBe(413);
    expect(res.json().overLimit.code).toBe(413);
    expect(upstreamActions()).toHaveLength(0);
  });

  it('accepts a chunked body under the limit and forwards its exact bytes', async () => {
    const chunks = ['{"os-set_bootable":', ' {"bootable": true}}'];
    const res = await request(actionUrl(), { method: 'POST', headers: jsonHeaders(TOKEN), body: chunks });
    expect(res.status).toBe(202);
    expect(upstreamActions()[0]!.body.toString()).toBe(chunks.join(''));
  });

  it('forwards an action key that is not ours byte for byte', async () => {
    // odd spacing, key order, unicode escapes and a trailing newline must all survive
    const body = Buffer.from('{ "os-set_bootable" : {"bootable":"true"} ,\n "x":"\\u00e9\u00e9" }\n');
    const res = await request(actionUrl(), { method: 'POST', headers: jsonHeaders(TOKEN), body });
    expect(res.status).toBe(202);
    const sent = upstreamActions();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body.equals(body)).toBe(true);
    expect(sent[0]!.headers['x-auth-token']).toBe(TOKEN);
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('handles our action with the default limit when the body is just under it', async () => {
    const body = JSON.stringify({ 'wrs-volume:os-volume_export': { pad: 'p'.repeat(900) } });
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024);
    expect((await request(actionUrl(), { method: 'POST', headers: jsonHeaders(TOKEN), body })).status).toBe(202);
  });

  it('streams other requests without buffering limits (bodies larger than the action limit pass)', async () => {
    const body = JSON.stringify({ volume: { name: 'v', description: 'd'.repeat(5000) } });
    // a volume update (name, description) is passed on as it streams; creates are read, since their body may name a held volume
    const res = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { method: 'PUT', headers: jsonHeaders(TOKEN), body });
    expect(res.status).toBe(202);
    expect(h.fake.requestsTo('PUT', `/v3/${PROJECT}/volumes/${VOLUME_ID}`)[0]!.body.toString()).toBe(body);
  });
});
