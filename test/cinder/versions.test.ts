import { describe, expect, it, onTestFinished } from 'vitest';
import { createUpstreamVersions, versionIds } from '../../src/cinder/versions.js';
import { CinderFault } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { startFakeCinder } from '../helpers/fake-cinder.js';
import { fixtureJson } from '../helpers/fixtures.js';
import { testConfig } from '../helpers/servers.js';

function versions(url: string, upstream: Record<string, unknown> = {}) {
  const v = createUpstreamVersions({ config: testConfig(url, upstream), logger: silentLogger() });
  onTestFinished(() => v.close());
  return v;
}

const withV2 = { versions: [{ ...fixtureJson('versions-root').versions[0], id: 'v2.0' }, fixtureJson('versions-root').versions[0]] };

describe('upstream versions', () => {
  it('reads the ids of a version document', () => {
    expect(versionIds(fixtureJson('versions-root'))).toEqual(['v3.0']);
    expect(versionIds({ nope: 1 })).toBeNull();
    expect(versionIds(null)).toBeNull();
  });

  it('finds no v2 in a v3-only Cinder (300 answer) and translates v2 in auto mode', async () => {
    const cinder = await startFakeCinder({ 'GET /': 'versions-root' });
    const v = versions(cinder.url);
    expect(await v.hasV2()).toBe(false);
    expect(await v.apiVersionFor('v2')).toBe('v3');
    expect(await v.apiVersionFor('v3')).toBe('v3');
  });

  it('finds v2 when listed, and caches the answer for versionCacheMs', async () => {
    const cinder = await startFakeCinder({ 'GET /': (_req, res) => { res.writeHead(300, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(withV2)); } });
    const v = versions(cinder.url, { versionCacheMs: 60_000 });
    expect(await v.apiVersionFor('v2')).toBe('v2');
    await Promise.all([v.hasV2(), v.hasV2(), v.apiVersionFor('v2')]);
    expect(cinder.requests.filter((r) => r.url === '/')).toHaveLength(1);
  });

  it('asks again once the cache expired', async () => {
    const cinder = await startFakeCinder({ 'GET /': 'versions-root' });
    const v = versions(cinder.url, { versionCacheMs: 0 });
    await v.hasV2();
    await v.hasV2();
    expect(cinder.requests.filter((r) => r.url === '/')).toHaveLength(2);
  });

  it('does not keep a failure for long: a recovered upstream is seen', async () => {
    const cinder = await startFakeCinder({ 'GET /': (_req, res) => { res.writeHead(500); res.end(); } });
    const v = versions(cinder.url, { versionCacheMs: 600_000 });
    const err = await v.hasV2().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CinderFault);
    cinder.routes.set('GET /', 'versions-root');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await v.hasV2()).toBe(false);
  });

  it('honours v2Mode native and translate without asking', async () => {
    const cinder = await startFakeCinder({ 'GET /': 'versions-root' });
    expect(await versions(cinder.url, { v2Mode: 'native' }).apiVersionFor('v2')).toBe('v2');
    expect(await versions(cinder.url, { v2Mode: 'translate' }).apiVersionFor('v2')).toBe('v3');
    expect(cinder.requests).toHaveLength(0);
  });

  it('fails with upstreamUnavailable when nothing listens', async () => {
    const cinder = await startFakeCinder();
    cinder.server.closeAllConnections();
    await new Promise<void>((r) => cinder.server.close(() => r()));
    const err = await versions(cinder.url).apiVersionFor('v2').catch((e: unknown) => e);
    expect((err as CinderFault).kind).toBe('upstreamUnavailable');
  });
});
