import { describe, expect, it } from 'vitest';
import { PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';
import type { CinderApi } from '../../src/cinder/types.js';

let h: Harness | undefined;

const exportBody = '{"wrs-volume:os-volume_export": null}';

describe('operations endpoints', () => {
  it('/healthz answers 200 without asking upstream', async () => {
    h = await startHarness();
    const res = await request(`${h.url}/healthz`);
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expect((await request(`${h.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('/readyz follows forwarder.ready()', async () => {
    h = await startHarness();
    const ok = await request(`${h.url}/readyz`);
    expect(ok.status).toBe(200);
    expect(ok.json()).toEqual({ status: 'ready', upstream: 'ok', state: 'ok' });
    await h.close();
    h = await startHarness({ ready: async () => false });
    const res = await request(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready', upstream: 'down: upstream does not answer GET /', state: 'ok' });
  });

  it('/readyz names the state store when it is the one down', async () => {
    h = await startHarness({ wrapStore: (s) => Object.assign(Object.create(s), { ping: () => Promise.reject(new Error('connection refused')) }) });
    const res = await request(`${h.url}/readyz`);
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready', upstream: 'ok', state: 'down: connection refused' });
  });

  it('/readyz is 503 when the upstream is gone', async () => {
    h = await startHarness();
    await h.fake.close();
    expect((await request(`${h.url}/readyz`)).status).toBe(503);
  });

  it('/metrics counts requests by route kind and status, and jobs by state', async () => {
    h = await startHarness();
    await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: exportBody });
    await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: '{' });
    const res = await request(`${h.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text = res.body.toString();
    expect(text).toContain('stx_proxy_requests_total{route="volume-action",status="202"} 1');
    expect(text).toContain('stx_proxy_requests_total{route="volume-action",status="400"} 1');
    expect(text).toContain('stx_proxy_jobs{state="queued"} 1');
    expect(text).toContain('stx_proxy_jobs{state="running"} 0');
  });
});

describe('request ids, logging and faults', () => {
  it('every log line of a request carries its id', async () => {
    h = await startHarness();
    const res = await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: exportBody });
    const id = res.headers['x-openstack-request-id'];
    const lines = h.logs.filter((l) => l.requestId === id);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining(['extension action', 'volume export accepted', 'request']));
    expect(h.logs.filter((l) => l.msg === 'request' && l.requestId === undefined)).toHaveLength(0);
  });

  it('a forwarded request logs its lines with its id and one module each, the proxy\'s as proxy', async () => {
    h = await startHarness({ config: { upstream: { url: 'http://127.0.0.1:1', connectTimeoutMs: 2000, timeoutMs: 10000 } } });
    const res = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`);
    expect(res.status).toBe(503);
    const id = res.headers['x-openstack-request-id'];
    const mine = h.logTexts.filter((text) => text.includes(`"requestId":"${id}"`));
    expect(mine.length).toBeGreaterThanOrEqual(2);
    for (const text of mine) expect(text.match(/"module":/g), text).toHaveLength(1);
    const parsed = mine.map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(parsed.find((l) => l.msg === 'upstream failed')).toMatchObject({ module: 'proxy', requestId: id });
    expect(parsed.find((l) => l.msg === 'request')).toMatchObject({ module: 'server', requestId: id, status: 503 });
  });

  it('each answer of the proxy gets a new id', async () => {
    h = await startHarness();
    const a = await request(`${h.url}/v2/${PROJECT}/extensions/wrs-volume`);
    const b = await request(`${h.url}/v2/${PROJECT}/extensions/wrs-volume`);
    expect(a.headers['x-openstack-request-id']).not.toBe(b.headers['x-openstack-request-id']);
  });

  it('passes the upstream request id of forwarded answers through', async () => {
    h = await startHarness();
    const res = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } });
    expect(res.status).toBe(200);
    expect(res.headers['x-openstack-request-id']).toBe('req-00000000-0000-0000-0000-00000000f4ce');
  });

  it('an unexpected error is a 500 computeFault and the proxy keeps serving', async () => {
    const broken: CinderApi = {
      getVolume: async () => { throw new Error('boom'); },
      getSnapshot: async () => { throw new Error('boom'); },
      listVolumeSnapshots: async () => [],
    };
    h = await startHarness({ cinder: broken });
    const res = await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: exportBody });
    expect(res.status).toBe(500);
    expect(res.json()).toEqual({ computeFault: { code: 500, message: 'The server has either erred or is incapable of performing the requested operation.' } });
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    expect((await request(`${h.url}/healthz`)).status).toBe(200);
  });

  it('an unreachable upstream during the check is a 503 serviceUnavailable', async () => {
    h = await startHarness();
    await h.fake.close();
    const res = await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: exportBody });
    expect(res.status).toBe(503);
    expect(res.json().serviceUnavailable.code).toBe(503);
    expect((await h.store.listJobs({ unfinishedOnly: true }))).toHaveLength(0);
  });
});

describe('shutdown', () => {
  it('refuses new jobs with 503 while draining and still forwards the rest', async () => {
    h = await startHarness({ draining: () => true });
    const res = await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: exportBody });
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({ serviceUnavailable: { code: 503, message: 'The service is shutting down.' } });
    expect((await h.store.listJobs({ unfinishedOnly: true }))).toHaveLength(0);
    expect((await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } })).status).toBe(200);
  });
});

describe('wrs-header gating', () => {
  it('injects backup_status everywhere when the setting is off (default)', async () => {
    h = await startHarness();
    await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } });
    expect(h.forwarded[0]!.injectBackupStatus).toBe(true);
  });

  it('injects only for requests carrying wrs-header when the setting is on', async () => {
    h = await startHarness({ config: { api: { requireWrsHeader: true } } });
    const without = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } });
    const withHeader = await request(`${h.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN, 'wrs-header': 'true' } });
    expect(h.forwarded.map((o) => o.injectBackupStatus)).toEqual([false, true]);
    expect(without.json().volume).not.toHaveProperty('wrs-volume:backup_status');
    expect(withHeader.json().volume).toHaveProperty('wrs-volume:backup_status', null);
  });

  it('passes the request id and a child logger to the forwarder', async () => {
    h = await startHarness();
    await request(`${h.url}/v3/${PROJECT}/types`, { headers: { 'x-auth-token': TOKEN } });
    expect(h.forwarded[0]!.requestId).toMatch(/^req-[0-9a-f-]{36}$/);
    expect(h.forwarded[0]!.body).toBeUndefined();
  });
});
