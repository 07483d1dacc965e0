import http from 'node:http';
import fc from 'fast-check';
import { ProxyServer } from 'http-proxy-3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { installLeanPass } from '../../src/proxy/forward-pass.js';
import { upstreamPath } from '../../src/cinder/path.js';
import { flakyKeepAlive } from '../helpers/fake-cinder.js';
import { request } from '../helpers/http.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { closeServer, listen, testConfig } from '../helpers/servers.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';

/** What the forwarder sent upstream before the lean pass: a WHATWG URL's path and query. */
const viaUrl = (prefix: string, url: string) => {
  const u = new URL(`http://upstream.invalid${prefix}${url.startsWith('/') ? url : `/${url}`}`);
  return u.pathname + u.search;
};

/** An upstream of our own whose handler the test drives step by step (IPv4 through the shared helper, or IPv6). */
async function upstream(handler: http.RequestListener, host = '127.0.0.1'): Promise<string> {
  const server = http.createServer(handler);
  if (host === '127.0.0.1') return (await listen(server)).url;
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  onTestFinished(() => closeServer(server));
  return `http://[${host}]:${(server.address() as { port: number }).port}`;
}

describe('the lean web pass in http-proxy-3', () => {
  it('takes the place of the stream pass and drops deleteLength, keeping the framework\'s other passes', () => {
    const proxy = new ProxyServer({});
    const before = (proxy as unknown as { webPasses: Array<{ name: string }> }).webPasses.map((p) => p.name);
    installLeanPass(proxy);
    const after = (proxy as unknown as { webPasses: Array<{ name: string }> }).webPasses.map((p) => p.name);
    expect(before).toEqual(['deleteLength', 'timeout', 'XHeaders', 'stream']);
    expect(after).toEqual(['timeout', 'XHeaders', 'leanStream']);
  });

  it('streams the answer to the caller while the upstream is still sending it', async () => {
    let finish!: () => void;
    const url = await upstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.write('first part;');
      finish = () => res.end('second part');
    });
    const proxy = await startProxy(testConfig(url));
    const body = await new Promise<string>((resolve, reject) => {
      http.get(`${proxy.url}/v3/${P}/backups/x/export`, { agent: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        // the upstream only ends once the caller has the first part: a proxy that buffers never gets here
        res.once('data', () => finish());
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    expect(body).toBe('first part;second part');
  });

  it('ends the upstream call when the caller goes away in the middle of the answer', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => { upstreamClosed = resolve; });
    const url = await upstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.write('x'.repeat(1000));
      res.once('close', () => upstreamClosed());
    });
    const proxy = await startProxy(testConfig(url));
    await new Promise<void>((resolve, reject) => {
      const req = http.get(`${proxy.url}/v3/${P}/backups/x/export`, { agent: false }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.once('error', reject);
    });
    // the upstream's answer is cut (its close fires) although it never ended it: the proxy let go of it
    await closed;
  });

  it('sends a held body again when a stale keep-alive connection drops it', async () => {
    const flaky = await flakyKeepAlive();
    const held = Buffer.from('{"os-extend": {"new_size": 2}}');
    const proxy = await startProxy(testConfig(flaky.url), { bodyFor: (req: http.IncomingMessage) => (req.method === 'PUT' ? (req.resume(), held) : undefined) });
    expect((await request(`${proxy.url}/v3/${P}/types`)).status).toBe(200);
    const put = await request(`${proxy.url}/v3/${P}/volumes/v1/metadata`, { method: 'PUT', body: held });
    expect(put.status).toBe(200);
    expect(flaky.seen).toEqual([`GET /v3/${P}/types`, `PUT /v3/${P}/volumes/v1/metadata`]);
    expect(proxy.lines.some((l) => l.msg === 'stale upstream connection, sending again')).toBe(true);
  });

  it('reaches an upstream on an IPv6 address', async () => {
    const url = await upstream((req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify({ url: req.url })); }, '::1');
    const proxy = await startProxy(testConfig(url));
    const answer = await request(`${proxy.url}/v3/${P}/types?a=1`);
    expect(answer.json()).toEqual({ url: `/v3/${P}/types?a=1` });
  });
});

describe('upstream path', () => {
  it('is what a URL makes of the caller\'s path: dot segments resolved, unsafe bytes encoded, fragment dropped', () => {
    expect(upstreamPath('', `/v3/${P}/volumes/detail?limit=5&marker=a`)).toBe(`/v3/${P}/volumes/detail?limit=5&marker=a`);
    expect(upstreamPath('/volume', '/v3/p/x/../y')).toBe('/volume/v3/p/y');
    expect(upstreamPath('', '/v3/p/%2e%2e/q')).toBe('/v3/q');
    expect(upstreamPath('', '//evil.example/v3')).toBe('//evil.example/v3');
    expect(upstreamPath('', '/v3/a b"<>')).toBe('/v3/a%20b%22%3C%3E');
    expect(upstreamPath('', '/v3/x?q=1#frag')).toBe('/v3/x?q=1');
    expect(upstreamPath('', '/v3/x?')).toBe('/v3/x');
  });

  it('equals the URL parser\'s result on random paths (the fast path never differs)', () => {
    const chars = fc.constantFrom(...'/abcAZ09-._~!$&\'()*+,;=:@%?#[]{}|^` "<>\\.é2eE'.split(''));
    fc.assert(fc.property(fc.constantFrom('', '/volume', '/a/b'), fc.array(chars, { maxLength: 30 }).map((a) => `/${a.join('')}`),
      (prefix, url) => { expect(upstreamPath(prefix, url)).toBe(viaUrl(prefix, url)); }), { numRuns: 3000 });
  });
});
