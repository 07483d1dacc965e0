// Who may do what: the proxy asks Cinder with the caller's own token, and Cinder's answer is the
// caller's answer. Compared here with what the same Cinder says to the same caller directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E, P, archivesOf, cinder, cleanup, createVolume, proxy, show, token, type Answer } from './helpers.js';

afterAll(cleanup);

const ALT = E.altProjectId;
const bodies = {
  export: { 'wrs-volume:os-volume_export': null },
  import: (id: string) => ({ 'wrs-volume:os-volume_import': { file_name: `volume-${id}-20200101-000000.tgz` } }),
};

function sameAs(viaProxy: Answer, direct: Answer, what: string): void {
  expect(viaProxy.status, `${what}: proxy ${show(viaProxy)} / cinder ${show(direct)}`).toBe(direct.status);
  // the fault kind and message are Cinder's own (request ids differ, naturally)
  expect(viaProxy.json, what).toEqual(direct.json);
}

describe('keystone mode: a second project', () => {
  let vol: any;
  let alt = '';
  beforeAll(async () => {
    vol = await createVolume('e2e-admin-only');
    alt = await token('alt');
  });

  it('gets Cinder\'s own 404 for another project\'s volume, on reads and on all three actions', async () => {
    const direct = await cinder('GET', `/v3/${ALT}/volumes/${vol.id}`, { token: alt });
    expect(direct.status, show(direct)).toBe(404);
    sameAs(await proxy('GET', `/v3/${ALT}/volumes/${vol.id}`, { token: alt }), direct, 'GET');
    for (const [what, body] of [['export', bodies.export], ['import', bodies.import(vol.id)]] as const) {
      const a = await proxy('POST', `/v3/${ALT}/volumes/${vol.id}/action`, { token: alt, body });
      sameAs(a, direct, what);
    }
    const snapDirect = await cinder('GET', `/v3/${ALT}/snapshots/00000000-0000-4000-8000-000000000000`, { token: alt });
    const snap = await proxy('POST', `/v3/${ALT}/snapshots/00000000-0000-4000-8000-000000000000/action`, {
      token: alt, body: { 'wrs-snapshot:os-export_snapshot': {} },
    });
    sameAs(snap, snapDirect, 'snapshot export');
  });

  it('gets Cinder\'s own answer when it names the other project in the URL', async () => {
    const direct = await cinder('GET', `/v3/${P}/volumes/${vol.id}`, { token: alt });
    expect(direct.status).toBeGreaterThanOrEqual(400);
    const a = await proxy('POST', `/v3/${P}/volumes/${vol.id}/action`, { token: alt, body: bodies.export });
    sameAs(a, direct, 'export on the admin project URL');
  });

  it('recorded no job: no backup_status, status untouched, no archive', async () => {
    const v = await proxy('GET', `/v3/${P}/volumes/${vol.id}`);
    expect(v.status, show(v)).toBe(200);
    expect(v.json.volume['wrs-volume:backup_status']).toBeNull();
    expect(v.json.volume.status).toBe('available');
    expect(await archivesOf(E.exportDir, vol.id)).toEqual([]);
  });
});

describe('keystone mode: no token or a bad token', () => {
  it('gets 401 from Cinder and nothing else happens', async () => {
    const vol = await createVolume('e2e-401');
    for (const tok of [null, 'not-a-token', 'gAAAAABbadbadbadbad']) {
      const direct = await cinder('GET', `/v3/${P}/volumes/${vol.id}`, { token: tok });
      expect(direct.status).toBe(401);
      for (const body of [bodies.export, bodies.import(vol.id)]) {
        const a = await proxy('POST', `/v3/${P}/volumes/${vol.id}/action`, { token: tok, body });
        expect(a.status, `${tok}: ${show(a)}`).toBe(401);
        expect(a.json).toEqual(direct.json);
      }
      const g = await proxy('GET', `/v3/${P}/volumes/detail`, { token: tok });
      expect(g.status, show(g)).toBe(401);
      expect(g.text).not.toContain(vol.id);
    }
    const v = await proxy('GET', `/v3/${P}/volumes/${vol.id}`);
    expect(v.json.volume['wrs-volume:backup_status']).toBeNull();
    expect(v.json.volume.status).toBe('available');
    expect(await archivesOf(E.exportDir, vol.id)).toEqual([]);
  });
});
