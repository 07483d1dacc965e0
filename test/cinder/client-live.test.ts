import { describe, expect, it, onTestFinished } from 'vitest';
import { createCinderClient } from '../../src/cinder/client.js';
import { CinderFault } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import type { CallerContext } from '../../src/cinder/types.js';
import { flakyKeepAlive, startFakeCinder } from '../helpers/fake-cinder.js';
import { fixture } from '../helpers/fixtures.js';
import { testConfig } from '../helpers/servers.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const VOL = '094098e3-67cd-4a57-a683-a518cb8020db';
const caller: CallerContext = { requestId: 'req-11111111-2222-3333-4444-555555555555', headers: { 'x-auth-token': 'tok' } };

function client(url: string, upstream: Record<string, unknown> = {}) {
  const c = createCinderClient({ config: testConfig(url, upstream), logger: silentLogger(), versions: { apiVersionFor: async () => 'v3' } });
  onTestFinished(() => c.close());
  return c;
}

describe('cinder client against a live fake Cinder', () => {
  it('fails with upstreamTimeout (504) when Cinder does not answer in time', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/${VOL}`]: () => { /* never answers */ } });
    const err = await client(cinder.url, { connectTimeoutMs: 100, timeoutMs: 200 }).getVolume(P, VOL, caller).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderFault);
    expect((err as CinderFault).kind).toBe('upstreamTimeout');
    expect((err as CinderFault).status).toBe(504);
  });

  it('fails with upstreamUnavailable (503) when Cinder refuses the connection', async () => {
    const cinder = await startFakeCinder();
    cinder.server.closeAllConnections();
    await new Promise<void>((r) => cinder.server.close(() => r()));
    const err = await client(cinder.url).getVolume(P, VOL, caller).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderFault);
    expect((err as CinderFault).kind).toBe('upstreamUnavailable');
    expect((err as CinderFault).status).toBe(503);
  });

  it('keeps the connection to the upstream alive between calls', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/${VOL}`]: 'volume-get' });
    const sockets = new Set<unknown>();
    cinder.server.on('connection', (s) => sockets.add(s));
    const c = client(cinder.url);
    await c.getVolume(P, VOL, caller);
    await c.getVolume(P, VOL, caller);
    expect(sockets.size).toBe(1);
    expect(cinder.requests[0]!.headers['x-openstack-request-id']).toBe(caller.requestId);
  });

  it('asks again on a fresh connection when a kept-alive one turns out closed', async () => {
    const upstream = await flakyKeepAlive(fixture('volume-get').body.toString());
    const c = client(upstream.url);
    await c.getVolume(P, VOL, caller);
    expect((await c.getVolume(P, VOL, caller)).id).toBe(VOL);
    expect(upstream.seen).toHaveLength(2);
  });

  it('reaches an upstream mounted under a path prefix', async () => {
    const cinder = await startFakeCinder({ [`GET /volume/v3/${P}/volumes/${VOL}`]: 'volume-get' });
    expect((await client(`${cinder.url}/volume`).getVolume(P, VOL, caller)).id).toBe(VOL);
  });
});
