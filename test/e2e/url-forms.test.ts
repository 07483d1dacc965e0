// Every URL form the real Cinder accepts for a change to a volume is refused through the proxy while the
// volume is exporting, and every form of a read shows `exporting`. The forms are not assumed: each candidate
// is first sent to Cinder directly, on a volume where Cinder's answer proves the request reached that
// volume's controller without harming it (a delete refused because the volume has a snapshot, an extend to
// the same size); only the candidates Cinder accepts are then tried through the proxy, for real, on the
// volume being exported (if one slipped through, Cinder would delete or extend it).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E, P, call, cinder, cleanup, createSnapshot, createVolume, show, waitFor, writeAt, volumeFile } from './helpers.js';
import { freePort, startProxyChild, stopProxyChild, writeProxyConfig, type ProxyChild } from './proxy-process.js';

const work = mkdtempSync(join(E.workDir, 'url-forms-'));
const exportDir = join(work, 'export');
mkdirSync(exportDir);
let child: ProxyChild | undefined;
let probe = '';   // has a snapshot: Cinder refuses to delete it, which proves a DELETE form reached it
let held = '';    // exported through the proxy while the forms are tried

type Candidate = { method: string; path: (p: string, v: string) => string; body?: unknown };

const DELETE_FORMS: Candidate[] = [
  { method: 'DELETE', path: (p, v) => `/v3/${p}/volumes/${v}` },
  { method: 'DELETE', path: (p, v) => `/v3/${p}/volumes/${v}.json` },
  { method: 'DELETE', path: (p, v) => `/v3//${p}/volumes/${v}` },
  { method: 'DELETE', path: (p, v) => `/v3/${p}//volumes/${v}` },
  { method: 'DELETE', path: (p, v) => `//v3/${p}/volumes//${v}` },
  { method: 'DELETE', path: (_, v) => `/v3/volumes/${v}` },
  { method: 'DELETE', path: (_, v) => `/v3/volumes/${v}.json` },
  { method: 'DELETE', path: (p, v) => `/%76%33/${p}/volumes/${v}` },
  { method: 'DELETE', path: (p, v) => `/v3/${p}/volumes%2F${v}` },
  { method: 'DELETE', path: (p, v) => `/v3/${p}/volumes/${v.toUpperCase()}` },
  { method: 'DELETE', path: (p, v) => `/v3/${p}/volumes/${v}%20` },
  { method: 'DELETE', path: (p, v) => `/v3/${p}/volumes/${v}/` },
  { method: 'GET', path: (p, v) => `/v3/${p}/volumes/${v}?_method=DELETE` },
  { method: 'GET', path: (_, v) => `/v3/volumes/${v}.json?limit=1&_method=delete` },
  { method: 'HEAD', path: (p, v) => `/v3/${p}/volumes/${v}?_method=DELETE` },
];

const extend = (size: number) => ({ 'os-extend': { new_size: size } });
const EXTEND_FORMS: Candidate[] = [
  { method: 'POST', path: (p, v) => `/v3/${p}/volumes/${v}/action` },
  { method: 'POST', path: (p, v) => `/v3/${p}/volumes/${v}/action.json` },
  { method: 'POST', path: (_, v) => `/v3/volumes/${v}/action` },
  { method: 'POST', path: (_, v) => `/v3/volumes/${v}/action.json` },
  { method: 'POST', path: (p, v) => `/v3//${p}//volumes/${v}//action` },
  { method: 'POST', path: (p, v) => `/v3/${p}/volumes/${v}/action/` },
  { method: 'POST', path: (p, v) => `/v3/${p}/volumes%2F${v}%2Faction` },
];

const READ_FORMS = [
  (p: string, v: string) => `/v3/${p}/volumes/${v}`,
  (p: string, v: string) => `/v3/${p}/volumes/${v}.json`,
  (p: string, v: string) => `/v3//${p}/volumes/${v}`,
  (_: string, v: string) => `/v3/volumes/${v}`,
  (_: string, v: string) => `/v3/volumes/${v}.json?x=1`,
  (p: string, v: string) => `/%76%33/${p}/volumes/${v}`,
];

const accepted = { deletes: [] as Candidate[], extends: [] as Candidate[] };

beforeAll(async () => {
  const probeVolume = await createVolume('e2e-url-forms-probe', 1);
  probe = probeVolume.id;
  await createSnapshot(probe, 'e2e-url-forms-probe-snap');
  held = (await createVolume('e2e-url-forms-held', 1)).id;
  // real data, so that the bandwidth-limited export is still running while the forms are tried
  await writeAt(volumeFile(held), 0, Buffer.alloc(256 << 20, 0x5a));
});

afterAll(async () => {
  if (child) await stopProxyChild(child);
  await cleanup();
  rmSync(work, { recursive: true, force: true });
});

describe('URL forms of the real Cinder, through the proxy during an export', () => {
  it('derives from the real Cinder which forms of DELETE and extend reach a volume', async () => {
    for (const c of DELETE_FORMS) {
      const a = await cinder(c.method, c.path(P, probe));
      // reached the delete controller of that volume: refused because of its snapshot (nothing deleted)
      // (a HEAD answer has no body: its 400 against the 404 of an unrouted path says enough)
      if (a.status === 400 && (c.method === 'HEAD' || /Invalid volume/.test(a.text))) accepted.deletes.push(c);
      else expect(a.status, `${c.method} ${c.path(P, probe)}: ${show(a)}`).toBe(404);
    }
    for (const c of EXTEND_FORMS) {
      const a = await cinder(c.method, c.path(P, probe), { body: extend(1) });
      if (a.status === 400 && /greater than current size/.test(a.text)) accepted.extends.push(c);
      else expect([404, 405], `${c.method} ${c.path(P, probe)}: ${show(a)}`).toContain(a.status);
    }
    // the forms the safety report named are among them
    const names = (list: Candidate[]) => list.map((c) => `${c.method} ${c.path('P', 'V')}`);
    expect(names(accepted.deletes)).toEqual(expect.arrayContaining([
      'DELETE /v3/P/volumes/V.json', 'DELETE /v3//P/volumes/V', 'DELETE /v3/P//volumes/V', 'DELETE /v3/volumes/V',
      'GET /v3/P/volumes/V?_method=DELETE']));
    expect(names(accepted.extends)).toEqual(expect.arrayContaining(['POST /v3/P/volumes/V/action.json', 'POST /v3/volumes/V/action']));
    // and the probe is still there: nothing above changed it
    expect((await cinder('GET', `/v3/${P}/volumes/${probe}`)).json.volume.status).toBe('available');
  });

  it('refuses each of them while the volume is exporting, and every read form shows exporting', async () => {
    expect(accepted.deletes.length).toBeGreaterThan(0);
    const port = await freePort();
    const config = join(work, 'proxy.yaml');
    writeProxyConfig(config, {
      port, upstream: E.cinderUrl, dataDir: join(work, 'data'), exportDir, volumePath: `${E.mntBase}/*/volume-{id}`,
      engine: { bandwidthBytesPerSec: 2 * 1024 * 1024, shutdownTimeoutMs: 1000 },
    });
    child = await startProxyChild(config, port, join(work, 'proxy.log'));
    const base = child.url;
    const started = await call(base, 'POST', `/v3/${P}/volumes/${held}/action`, { body: { 'wrs-volume:os-volume_export': null } });
    expect(started.status, show(started)).toBe(202);
    await waitFor('export running', async () => (
      (await call(base, 'GET', `/v3/${P}/volumes/${held}`)).json?.volume?.status === 'exporting' ? true : undefined), 60_000);

    for (const c of accepted.deletes) {
      const a = await call(base, c.method, c.path(P, held));
      expect(a.status, `${c.method} ${c.path(P, held)}: ${show(a)}`).toBe(400);
      if (c.method !== 'HEAD') expect(a.json.badRequest.message).toMatch(/^Invalid volume: /);
    }
    for (const c of accepted.extends) {
      const a = await call(base, c.method, c.path(P, held), { body: extend(2) });
      expect(a.status, `${c.method} ${c.path(P, held)}: ${show(a)}`).toBe(400);
      expect(a.json.badRequest.message).toMatch(/^Invalid volume: /);
    }
    // the same through /v2, which the proxy serves by translation to /v3
    for (const c of [...accepted.deletes, ...accepted.extends].filter((x) => x.path(P, held).startsWith('/v3/'))) {
      const path = c.path(P, held).replace(/^\/v3\//, '/v2/');
      const a = await call(base, c.method, path, c.method === 'POST' ? { body: extend(2) } : {});
      expect(a.status, `${c.method} ${path}: ${show(a)}`).toBe(400);
    }

    for (const form of READ_FORMS) {
      const direct = await cinder('GET', form(P, held));
      expect(direct.status, `direct ${form(P, held)}: ${show(direct)}`).toBe(200);
      const a = await call(base, 'GET', form(P, held));
      expect(a.json?.volume?.status, `${form(P, held)}: ${show(a)}`).toBe('exporting');
      expect(a.json.volume['wrs-volume:backup_status']).toMatch(/^Export started at /);
    }
    for (const path of [`/v3/${P}/volumes/detail.json`, '/v3/volumes/detail']) {
      const v = (await call(base, 'GET', path)).json.volumes.find((x: { id: string }) => x.id === held);
      expect(v?.status, path).toBe('exporting');
    }
    // still exporting at the end (every refusal above was the proxy's), and Cinder's volume untouched
    expect((await call(base, 'GET', `/v3/${P}/volumes/${held}`)).json.volume.status).toBe('exporting');
    const inCinder = (await cinder('GET', `/v3/${P}/volumes/${held}`)).json.volume;
    expect(inCinder).toMatchObject({ status: 'available', size: 1 });
  });
});
