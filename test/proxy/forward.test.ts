import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { startFakeCinder } from '../helpers/fake-cinder.js';
import { fixture, sendFixture } from '../helpers/fixtures.js';
import { request } from '../helpers/http.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { testConfig } from '../helpers/servers.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const VOL = '094098e3-67cd-4a57-a683-a518cb8020db';

describe('forwarding', () => {
  it('passes request headers upstream and the answer back unchanged (status, headers, body)', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/types`]: 'types-list' });
    const proxy = await startProxy(testConfig(cinder.url));
    const answer = await request(`${proxy.url}/v3/${P}/types?is_public=None`, {
      headers: { 'X-Auth-Token': 'admin:tok', 'OpenStack-API-Version': 'volume 3.59', 'X-Custom': 'kept',
        Connection: 'keep-alive, x-hop', 'X-Hop': 'dropped', 'User-Agent': 'python-cinderclient' },
    });
    const f = fixture('types-list');
    expect(answer.status).toBe(f.status);
    expect(answer.body.equals(f.body)).toBe(true);
    for (const [name, value] of f.headers) expect(answer.headers[name.toLowerCase()]).toBe(value);

    const seen = cinder.requests[0]!;
    expect(seen.url).toBe(`/v3/${P}/types?is_public=None`);
    expect(seen.headers['x-auth-token']).toBe('admin:tok');
    expect(seen.headers['openstack-api-version']).toBe('volume 3.59');
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['user-agent']).toBe('python-cinderclient');
    expect(seen.headers['x-hop']).toBeUndefined();
    expect(seen.headers.host).toBe(new URL(proxy.url).host);
  });

  it('sets X-Forwarded-For/-Host/-Proto so Cinder builds links to the proxy', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes`]: 'volumes-list' });
    const proxy = await startProxy(testConfig(cinder.url));
    await request(`${proxy.url}/v3/${P}/volumes`);
    await request(`${proxy.url}/v3/${P}/volumes`, {
      headers: { 'X-Forwarded-For': '10.1.2.3', 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'cinder.example.org:8776' },
    });
    const [plain, behind] = cinder.requests;
    expect(plain!.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(plain!.headers['x-forwarded-host']).toBe(new URL(proxy.url).host);
    expect(plain!.headers['x-forwarded-proto']).toBe('http');
    // a proxy in front of ours knows the caller's view best
    expect(behind!.headers['x-forwarded-for']).toBe('10.1.2.3, 127.0.0.1');
    expect(behind!.headers['x-forwarded-proto']).toBe('https');
    expect(behind!.headers['x-forwarded-host']).toBe('cinder.example.org:8776');
  });

  it('forwards a POST body byte for byte and passes upstream errors as they came', async () => {
    const cinder = await startFakeCinder({
      [`POST /v3/${P}/volumes/${VOL}/action`]: 'action-extend-too-small',
    });
    const proxy = await startProxy(testConfig(cinder.url));
    const body = '{"os-extend":  {"new_size": 1}}\n';
    const answer = await request(`${proxy.url}/v3/${P}/volumes/${VOL}/action`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
    });
    const f = fixture('action-extend-too-small');
    expect(answer.status).toBe(f.status);
    expect(answer.body.equals(f.body)).toBe(true);
    expect(cinder.requests[0]!.body.toString()).toBe(body);
    expect(cinder.requests[0]!.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it('forwards odd methods: PATCH, OPTIONS, HEAD, DELETE with a body (sized and chunked)', async () => {
    const echo = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
      const out = Buffer.from(JSON.stringify({ method: req.method, body: body.toString() }));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': out.length, 'X-Echo': req.method });
      res.end(out);
    };
    const cinder = await startFakeCinder({
      'PATCH /v3/x': echo, 'OPTIONS /v3/x': echo, 'HEAD /v3/x': echo, 'DELETE /v3/x': echo,
    });
    const proxy = await startProxy(testConfig(cinder.url));

    const patch = await request(`${proxy.url}/v3/x`, { method: 'PATCH', body: 'p-body' });
    expect(patch.json()).toEqual({ method: 'PATCH', body: 'p-body' });
    const options = await request(`${proxy.url}/v3/x`, { method: 'OPTIONS' });
    expect(options.json()).toEqual({ method: 'OPTIONS', body: '' });
    const head = await request(`${proxy.url}/v3/x`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['x-echo']).toBe('HEAD');
    expect(head.body.length).toBe(0);
    const del = await request(`${proxy.url}/v3/x`, { method: 'DELETE', body: 'd-body' });
    expect(del.json()).toEqual({ method: 'DELETE', body: 'd-body' });

    const chunked = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${proxy.url}/v3/x`, { method: 'DELETE', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      });
      req.on('error', reject);
      req.write('part1-');
      req.end('part2');
    });
    expect(JSON.parse(chunked)).toEqual({ method: 'DELETE', body: 'part1-part2' });
    expect(cinder.requests.map((r) => r.method)).toEqual(['PATCH', 'OPTIONS', 'HEAD', 'DELETE', 'DELETE']);
  });

  it('sends ForwardOptions.body instead of the request stream, with a correct Content-Length', async () => {
    const cinder = await startFakeCinder({ [`POST /v3/${P}/volumes/${VOL}/action`]: 'action-extend' });
    const replacement = Buffer.from('{"os-extend": {"new_size": 2}}');
    const proxy = await startProxy(testConfig(cinder.url), {
      // the server half already read (consumed) the stream; it must not be read again
      bodyFor: (req) => { req.resume(); return replacement; },
    });
    const answer = await request(`${proxy.url}/v3/${P}/volumes/${VOL}/action`, {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' }, body: 'ignored-and-longer-than-the-replacement-body......',
    });
    expect(answer.status).toBe(202);
    const seen = cinder.requests[0]!;
    expect(seen.body.equals(replacement)).toBe(true);
    expect(seen.headers['content-length']).toBe(String(replacement.length));
    expect(seen.headers['transfer-encoding']).toBeUndefined();
  });

  it('passes the upstream request id through and logs every line with the caller request id', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/${VOL}`]: 'volume-get' });
    const proxy = await startProxy(testConfig(cinder.url));
    const answer = await request(`${proxy.url}/v3/${P}/volumes/${VOL}`);
    const upstreamId = fixture('volume-get').headers.find(([k]) => k.toLowerCase() === 'x-openstack-request-id')![1];
    expect(answer.headers['x-openstack-request-id']).toBe(upstreamId);
    const proxyLines = proxy.lines.filter((l) => l.module === 'proxy');
    expect(proxyLines.length).toBeGreaterThan(0);
    for (const line of proxyLines) expect(line.requestId).toBe(proxy.requestIds[0]);
  });

  it('keeps upstream 300 version answers and 404s intact on paths no rewrite touches', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/${VOL}/nothing`]: (_req, res) => sendFixture(res, 'error-404-volume') });
    const proxy = await startProxy(testConfig(cinder.url));
    const answer = await request(`${proxy.url}/v3/${P}/volumes/${VOL}/nothing`);
    expect(answer.status).toBe(404);
    expect(answer.body.equals(fixture('error-404-volume').body)).toBe(true);
  });

  it('reuses one keep-alive connection to the upstream for successive requests', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/types`]: 'types-list' });
    const sockets = new Set<unknown>();
    cinder.server.on('connection', (s) => sockets.add(s));
    const proxy = await startProxy(testConfig(cinder.url));
    for (let i = 0; i < 3; i++) expect((await request(`${proxy.url}/v3/${P}/types`)).status).toBe(200);
    expect(sockets.size).toBe(1);
  });

  it('forwards to an upstream mounted under a path prefix', async () => {
    const cinder = await startFakeCinder({ [`GET /volume/v3/${P}/types`]: 'types-list' });
    const proxy = await startProxy(testConfig(`${cinder.url}/volume`));
    expect((await request(`${proxy.url}/v3/${P}/types?a=b`)).status).toBe(200);
    expect(cinder.requests[0]!.url).toBe(`/volume/v3/${P}/types?a=b`);
  });

  it('sends what the route table read: dot segments resolved below the mount path, never out of it', async () => {
    const cinder = await startFakeCinder({ [`GET /volume/v3/${P}/types`]: 'types-list' });
    const proxy = await startProxy(testConfig(`${cinder.url}/volume`));
    const raw = (path: string) => new Promise<void>((done, fail) => {
      // a path option is sent as it is (a URL string would have its dot segments resolved by the client)
      const { hostname, port } = new URL(proxy.url);
      const req = http.request({ hostname, port, path }, (res) => { res.resume(); res.on('end', done); });
      req.on('error', fail);
      req.end();
    });
    await raw(`/v3/${P}/x/../types`);
    await raw('/v3/../../admin');
    expect(cinder.requests.map((r) => r.url)).toEqual([`/volume/v3/${P}/types`, '/volume/admin']);
  });
});
