import http from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fault } from '../../src/errors.js';
import { CachedStateStore } from '../../src/state/cached-store.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { startFakeCinder } from '../helpers/fake-cinder.js';
import { fixture, fixtureJson, sendFixture } from '../helpers/fixtures.js';
import { request } from '../helpers/http.js';
import { startProxy, STORE_TIME, WRS_EXTENSIONS } from '../helpers/proxy-harness.js';
import { testConfig } from '../helpers/servers.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const VOL = '094098e3-67cd-4a57-a683-a518cb8020db';
const SNAP = '83dfb006-0751-464b-9eae-96fd15d6e95b';
// the harness store's clock stands at STORE_TIME
const STARTED = 'Export started at 2026-11-27 03:00:00.123000';

async function startExport(store: SqliteStateStore): Promise<string> {
  const job = (await store.createJob({
    kind: 'volume-export', resourceType: 'volume', resourceId: VOL, projectId: P, backend: 'nfs',
    params: { volumeId: VOL, sizeGiB: 1, host: null }, bytesTotal: 100,
  }))!;
  await store.claimNext({ owner: 'r', backends: ['nfs'], leaseMs: 60_000 });
  await store.renewLease(job.id, { owner: 'r', leaseMs: 60_000, bytesDone: 37, bytesTotal: 100 });
  return job.id;
}

function expectLengthRight(answer: { headers: http.IncomingHttpHeaders; body: Buffer }) {
  expect(answer.headers['content-length']).toBe(String(answer.body.length));
}

describe('rewrites through the forwarder', () => {
  it('injects backup_status and the job status into volume detail and show, not into the summary list', async () => {
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/volumes/detail`]: 'volumes-detail',
      [`GET /v3/${P}/volumes/${VOL}`]: 'volume-get',
      [`GET /v3/${P}/volumes`]: 'volumes-list',
    });
    const proxy = await startProxy(testConfig(cinder.url));
    await startExport(proxy.store);

    const detail = await request(`${proxy.url}/v3/${P}/volumes/detail`);
    expectLengthRight(detail);
    const vol = detail.json().volumes.find((v: any) => v.id === VOL);
    expect(vol.status).toBe('exporting');
    expect(vol['wrs-volume:backup_status']).toBe(STARTED);
    expect(vol['wrs-volume:backup_progress']).toBe('37%');
    expect(detail.headers['x-openstack-request-id']).toBe(fixture('volumes-detail').headers.find(([k]) => k === 'X-Openstack-Request-Id')![1]);

    const show = await request(`${proxy.url}/v3/${P}/volumes/${VOL}`);
    expectLengthRight(show);
    expect(show.json().volume['wrs-volume:backup_status']).toBe(STARTED);
    expect(show.json().volume.status).toBe('exporting');

    const summary = await request(`${proxy.url}/v3/${P}/volumes`);
    expect(summary.body.equals(fixture('volumes-list').body)).toBe(true);

    // rewritten answers are asked for unencoded; others keep the caller's accept-encoding
    const [d, s, l] = cinder.requests;
    expect(d!.headers['accept-encoding']).toBe('identity');
    expect(s!.headers['accept-encoding']).toBe('identity');
    expect(l!.headers['accept-encoding']).toBeUndefined();
  });

  it('with a caching store, an answer whose volumes are all cached is spliced from the cache (no read); a change shows in the next', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/detail`]: 'volumes-detail' });
    const inner = new SqliteStateStore(':memory:', { now: () => STORE_TIME });
    onTestFinished(() => inner.close());
    const store = new CachedStateStore(inner, 100);
    let reads = 0;
    const read = store.overlays.bind(store);
    store.overlays = (type, ids) => { reads++; return read(type, ids); };
    const proxy = await startProxy(testConfig(cinder.url), { deps: { store } });
    const url = `${proxy.url}/v3/${P}/volumes/detail`;

    const first = await request(url);
    expect(reads).toBe(1);
    const again = await request(url);
    expect(reads).toBe(1);
    expect(again.body.equals(first.body)).toBe(true);
    expect(again.json().volumes.every((v: any) => v['wrs-volume:backup_status'] === null)).toBe(true);

    await startExport(inner); // the store's event drops VOL from the cache
    const after = await request(url);
    expectLengthRight(after);
    expect(reads).toBe(2);
    expect(after.json().volumes.find((v: any) => v.id === VOL)).toMatchObject({ status: 'exporting', 'wrs-volume:backup_status': STARTED });
  });

  it('injects null backup_status for unknown volumes, and nothing when injection is off', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/${VOL}`]: 'volume-get' });
    const on = await startProxy(testConfig(cinder.url));
    expect((await request(`${on.url}/v3/${P}/volumes/${VOL}`)).json().volume).toHaveProperty('wrs-volume:backup_status', null);
    const off = await startProxy(testConfig(cinder.url), { injectBackupStatus: false });
    const answer = await request(`${off.url}/v3/${P}/volumes/${VOL}`);
    expect(answer.json().volume).not.toHaveProperty('wrs-volume:backup_status');
    expect(answer.json()).toEqual(fixtureJson('volume-get'));
  });

  it('injects wrs-snapshot:backup_status into snapshot detail and show', async () => {
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/snapshots/detail`]: 'snapshots-detail',
      [`GET /v3/${P}/snapshots/${SNAP}`]: 'snapshot-get',
      [`GET /v3/${P}/snapshots`]: 'snapshots-list',
    });
    const proxy = await startProxy(testConfig(cinder.url));
    const job = (await proxy.store.createJob({
      kind: 'snapshot-export', resourceType: 'snapshot', resourceId: SNAP, projectId: P, backend: 'nfs',
      params: { volumeId: VOL, snapshotId: SNAP, sizeGiB: 1, host: null }, bytesTotal: 10,
    }))!;
    await proxy.store.finishJob(job.id, { state: 'succeeded' });

    const detail = await request(`${proxy.url}/v3/${P}/snapshots/detail`);
    expectLengthRight(detail);
    const snap = detail.json().snapshots.find((s: any) => s.id === SNAP);
    expect(snap['wrs-snapshot:backup_status']).toBe('Export completed at 2026-11-27 03:00:00.123000');
    expect(snap.status).toBe('available');
    const show = await request(`${proxy.url}/v3/${P}/snapshots/${SNAP}`);
    expect(show.json().snapshot['wrs-snapshot:backup_status']).toBe('Export completed at 2026-11-27 03:00:00.123000');
    const list = await request(`${proxy.url}/v3/${P}/snapshots`);
    expect(list.body.equals(fixture('snapshots-list').body)).toBe(true);
  });

  it('appends the extension descriptions to the upstream list', async () => {
    const cinder = await startFakeCinder({ [`GET /v2/${P}/extensions`]: 'extensions' });
    const proxy = await startProxy(testConfig(cinder.url, { v2Mode: 'native' }));
    const answer = await request(`${proxy.url}/v2/${P}/extensions`);
    expectLengthRight(answer);
    const upstream = fixtureJson('extensions').extensions;
    expect(answer.json().extensions).toEqual([...upstream, ...WRS_EXTENSIONS]);
  });

  it('rewrites a long list that arrives in many small pieces, with and without a declared length, as if it came whole', async () => {
    // 600 volumes (the one exporting in the middle), written a few hundred bytes at a time, so that tokens are cut everywhere
    const base = fixtureJson('volumes-detail').volumes[0];
    const volumes = Array.from({ length: 600 }, (_, i) => ({ ...base, id: i === 300 ? VOL : `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` }));
    const bytes = Buffer.from(JSON.stringify({ volumes }));
    const inPieces = (res: http.ServerResponse) => {
      let at = 0;
      const next = () => {
        if (at >= bytes.length) { res.end(); return; }
        const piece = bytes.subarray(at, at + 333);
        at += piece.length;
        res.write(piece, next);
      };
      next();
    };
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/volumes/detail`]: (req, res) => {
        const declared = req.url!.includes('chunked=1') ? {} : { 'Content-Length': bytes.length };
        res.writeHead(200, { 'Content-Type': 'application/json', ...declared });
        inPieces(res);
      },
    });
    const proxy = await startProxy(testConfig(cinder.url));
    await startExport(proxy.store);
    const expected = volumes.map((v) => (v.id === VOL
      ? { ...v, status: 'exporting', 'wrs-volume:backup_status': STARTED, 'wrs-volume:backup_progress': '37%' }
      : { ...v, 'wrs-volume:backup_status': null }));
    for (const path of ['volumes/detail', 'volumes/detail?chunked=1']) {
      const answer = await request(`${proxy.url}/v3/${P}/${path}`);
      expect(answer.status, path).toBe(200);
      expectLengthRight(answer);
      expect(answer.json(), path).toEqual({ volumes: expected });
    }
  });

  it('long answers rewritten at the same time each get their own bytes, also while callers go away mid-answer', async () => {
    // the buffers of rewritten answers are reused: answers that overlap in time must never share one
    const base = fixtureJson('volumes-detail').volumes[0];
    const listOf = (tag: string) => Array.from({ length: 400 }, (_, i) => ({ ...base, id: `${tag}-${i}`, name: `${tag}-${i}` }));
    const lists = { a: listOf('a'), b: listOf('b') };
    const bodies = { a: Buffer.from(JSON.stringify({ volumes: lists.a })), b: Buffer.from(JSON.stringify({ volumes: lists.b })) };
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/volumes/detail`]: (req, res) => {
        const body = req.url!.includes('list=b') ? bodies.b : bodies.a;
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
        // in two writes, so that answers interleave
        res.write(body.subarray(0, 100_000), () => setImmediate(() => res.end(body.subarray(100_000))));
      },
    });
    const proxy = await startProxy(testConfig(cinder.url));
    const expected = (list: typeof lists.a) => ({ volumes: list.map((v) => ({ ...v, 'wrs-volume:backup_status': null })) });
    const abandoned = () => new Promise<void>((done) => {
      const req = http.get(`${proxy.url}/v3/${P}/volumes/detail?list=b`, (res) => { res.once('data', () => { req.destroy(); done(); }); });
      req.on('error', () => done());
    });
    for (let round = 0; round < 3; round++) {
      const calls = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'a' : 'b') as 'a' | 'b');
      const [answers] = await Promise.all([
        Promise.all(calls.map((tag) => request(`${proxy.url}/v3/${P}/volumes/detail?list=${tag}`).then((r) => ({ tag, r })))),
        Promise.all(Array.from({ length: 4 }, abandoned)),
      ]);
      for (const { tag, r } of answers) {
        expect(r.status).toBe(200);
        expectLengthRight(r);
        expect(r.json(), `round ${round}, list ${tag}`).toEqual(expected(lists[tag]));
      }
    }
  });

  it('passes answers untouched when they are encoded, not JSON, errors, or larger than the cap', async () => {
    const big = { volumes: Array.from({ length: 200 }, (_, i) => ({ id: `v-${i}`, status: 'available', name: 'x'.repeat(100) })) };
    const bigBytes = Buffer.from(JSON.stringify(big));
    const gz = gzipSync(fixture('volume-get').body);
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/volumes/${VOL}`]: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
        res.end(gz);
      },
      [`GET /v3/${P}/volumes/detail`]: (_req, res) => {
        // chunked, so the cap is only found while reading
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(bigBytes.subarray(0, 1000));
        res.end(bigBytes.subarray(1000));
      },
      [`GET /v3/${P}/snapshots/detail`]: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': bigBytes.length });
        res.end(bigBytes);
      },
      [`GET /v3/${P}/snapshots/${SNAP}`]: (_req, res) => sendFixture(res, 'error-404-volume'),
    });
    const proxy = await startProxy(testConfig(cinder.url), { deps: { maxRewriteBytes: 4096 } });
    const encoded = await request(`${proxy.url}/v3/${P}/volumes/${VOL}`);
    expect(encoded.body.equals(gz)).toBe(true);
    const chunked = await request(`${proxy.url}/v3/${P}/volumes/detail`);
    expect(chunked.body.equals(bigBytes)).toBe(true);
    const sized = await request(`${proxy.url}/v3/${P}/snapshots/detail`);
    expect(sized.body.equals(bigBytes)).toBe(true);
    const notFound = await request(`${proxy.url}/v3/${P}/snapshots/${SNAP}`);
    expect(notFound.status).toBe(404);
    expect(notFound.body.equals(fixture('error-404-volume').body)).toBe(true);
  });
});

describe('v2 in front of a v3-only Cinder', () => {
  function v3OnlyCinder() {
    return startFakeCinder({
      'GET /': 'versions-root',
      'GET /v3/': 'versions-v3',
      [`GET /v3/${P}/volumes/${VOL}`]: 'volume-get',
      [`GET /v3/${P}/volumes`]: 'volumes-list',
      [`GET /v3/${P}/extensions`]: 'extensions',
    });
  }

  it('sends /v2 upstream as /v3 without microversion headers and rewrites links back to /v2', async () => {
    const cinder = await v3OnlyCinder();
    const proxy = await startProxy(testConfig(cinder.url));
    const answer = await request(`${proxy.url}/v2/${P}/volumes/${VOL}?x=1`, {
      headers: { 'OpenStack-API-Version': 'volume 3.70', 'X-OpenStack-Volume-API-Version': '3.70', 'X-Auth-Token': 't' },
    });
    expect(answer.status).toBe(200);
    expectLengthRight(answer);
    const seen = cinder.requests.find((r) => r.url.includes('/volumes/'))!;
    expect(seen.url).toBe(`/v3/${P}/volumes/${VOL}?x=1`);
    expect(seen.headers['openstack-api-version']).toBeUndefined();
    expect(seen.headers['x-openstack-volume-api-version']).toBeUndefined();
    expect(seen.headers['x-auth-token']).toBe('t');
    const links = answer.json().volume.links;
    expect(links[0].href).toBe(`http://127.0.0.1:8776/v2/${P}/volumes/${VOL}`);
    expect(links[1].href).toBe(`http://127.0.0.1:8776/${P}/volumes/${VOL}`);
    expect(answer.json().volume).toHaveProperty('wrs-volume:backup_status', null);

    // summary list: links rewritten, nothing injected
    const list = await request(`${proxy.url}/v2/${P}/volumes`);
    expect(list.json().volumes[0].links[0].href).toContain(`/v2/${P}/volumes/`);
    expect(list.json().volumes[0]).not.toHaveProperty('wrs-volume:backup_status');

    // /v3 itself is left alone
    const v3 = await request(`${proxy.url}/v3/${P}/volumes/${VOL}`, { headers: { 'OpenStack-API-Version': 'volume 3.70' } });
    expect(v3.json().volume.links[0].href).toContain('/v3/');
    expect(cinder.requests.at(-1)!.headers['openstack-api-version']).toBe('volume 3.70');
  });

  it('lists v2 in version discovery (GET / and GET /v2/) with a self link to the proxy', async () => {
    const cinder = await v3OnlyCinder();
    const proxy = await startProxy(testConfig(cinder.url));
    const root = await request(`${proxy.url}/`);
    expect(root.status).toBe(300);
    expectLengthRight(root);
    const v2 = root.json().versions.find((v: any) => v.id === 'v2.0');
    expect(v2.status).toBe('DEPRECATED');
    expect(v2.links).toContainEqual({ rel: 'self', href: `${proxy.url}/v2/` });
    expect(root.json().versions.find((v: any) => v.id === 'v3.0')).toEqual(fixtureJson('versions-root').versions[0]);

    const doc = await request(`${proxy.url}/v2/`);
    expect(cinder.requests.at(-1)!.url).toBe('/v3/');
    expect(doc.json().versions.map((v: any) => v.id).sort()).toEqual(['v2.0', 'v3.0']);
  });

  it('forwards /v2 as it is when the upstream serves v2', async () => {
    const both = { versions: [{ ...fixtureJson('versions-root').versions[0], id: 'v2.0', status: 'DEPRECATED' }, fixtureJson('versions-root').versions[0]] };
    const cinder = await startFakeCinder({
      'GET /': (_req, res) => { res.writeHead(300, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(both)); },
      [`GET /v2/${P}/volumes/${VOL}`]: 'volume-get',
    });
    const proxy = await startProxy(testConfig(cinder.url));
    const answer = await request(`${proxy.url}/v2/${P}/volumes/${VOL}`, { headers: { 'OpenStack-API-Version': 'volume 3.0' } });
    expect(cinder.requests.at(-1)!.url).toBe(`/v2/${P}/volumes/${VOL}`);
    expect(cinder.requests.at(-1)!.headers['openstack-api-version']).toBe('volume 3.0');
    expect(answer.json().volume.links[0].href).toContain('/v3/');
    const root = await request(`${proxy.url}/`);
    expect(root.json()).toEqual(both);
  });

  it('honours v2Mode translate and native without asking the upstream', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes`]: 'volumes-list', [`GET /v2/${P}/volumes`]: 'volumes-list' });
    const translate = await startProxy(testConfig(cinder.url, { v2Mode: 'translate' }));
    await request(`${translate.url}/v2/${P}/volumes`);
    expect(cinder.requests.at(-1)!.url).toBe(`/v3/${P}/volumes`);
    expect(await translate.forwarder.upstreamApiVersion('v2')).toBe('v3');
    const native = await startProxy(testConfig(cinder.url, { v2Mode: 'native' }));
    await request(`${native.url}/v2/${P}/volumes`);
    expect(cinder.requests.at(-1)!.url).toBe(`/v2/${P}/volumes`);
    expect(await native.forwarder.upstreamApiVersion('v2')).toBe('v2');
    expect(cinder.requests.some((r) => r.url === '/')).toBe(false);
  });

  it('answers /v2 with 503 when the upstream cannot be asked which versions it serves', async () => {
    const cinder = await startFakeCinder({ 'GET /': (_req, res) => { res.writeHead(500); res.end(); } });
    const proxy = await startProxy(testConfig(cinder.url));
    const answer = await request(`${proxy.url}/v2/${P}/volumes`);
    expect(answer.status).toBe(503);
    expect(answer.headers['x-openstack-request-id']).toBe(proxy.requestIds[0]);
    expect(answer.json().serviceUnavailable.code).toBe(503);
  });
});

describe('the overlay read', () => {
  it('reads the overlays of a whole detail list at once', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/detail`]: 'volumes-detail' });
    const reads: string[][] = [];
    const proxy = await startProxy(testConfig(cinder.url), { deps: { store: {
      overlays: async (_type, ids) => { reads.push([...ids]); return new Map(ids.map((id) => [id, { backupStatus: null, status: null, progress: null }])); },
      clearStatusOverride: async () => {},
    } } });
    const detail = await request(`${proxy.url}/v3/${P}/volumes/detail`);
    expect(detail.status).toBe(200);
    expect(reads).toHaveLength(1);
    expect(reads[0]).toEqual(fixtureJson('volumes-detail').volumes.map((v: any) => v.id));
  });

  it('answers 503 serviceUnavailable when the state store is down, and still forwards the rest', async () => {
    const cinder = await startFakeCinder({ [`GET /v3/${P}/volumes/detail`]: 'volumes-detail', [`GET /v3/${P}/volumes`]: 'volumes-list' });
    const proxy = await startProxy(testConfig(cinder.url), { deps: { store: {
      overlays: () => Promise.reject(fault('stateUnavailable', { reason: 'connection refused' })),
      clearStatusOverride: async () => {},
    } } });
    const detail = await request(`${proxy.url}/v3/${P}/volumes/detail`);
    expect(detail.status).toBe(503);
    expect(detail.json()).toEqual({ serviceUnavailable: { code: 503, message: 'The state store is unavailable: connection refused' } });
    expect((await request(`${proxy.url}/v3/${P}/volumes`)).status).toBe(200);
  });
});

describe('ready()', () => {
  it('is true when the upstream answers GET / below 500, false otherwise', async () => {
    const cinder = await startFakeCinder({ 'GET /': 'versions-root' });
    const proxy = await startProxy(testConfig(cinder.url));
    expect(await proxy.forwarder.ready()).toBe(true);
    cinder.routes.set('GET /', (_req, res) => { res.writeHead(401); res.end(); });
    expect(await proxy.forwarder.ready()).toBe(true);
    cinder.routes.set('GET /', (_req, res) => { res.writeHead(503); res.end(); });
    expect(await proxy.forwarder.ready()).toBe(false);
    cinder.routes.set('GET /', () => { /* never answers */ });
    const slow = await startProxy(testConfig(cinder.url, { connectTimeoutMs: 200 }));
    expect(await slow.forwarder.ready()).toBe(false);
  });
});
