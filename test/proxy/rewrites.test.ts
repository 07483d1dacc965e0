import { describe, expect, it } from 'vitest';
import type { ResourceOverlay, ResourceType } from '../../src/state/types.js';
import { parseTarget } from '../helpers/target.js';
import { REWRITES, acceptsStatus, applyRewrites, selectRewrites } from '../../src/proxy/rewrites/index.js';
import { snapshotOverlay, volumeOverlay } from '../../src/proxy/rewrites/resources.js';
import { extensionList } from '../../src/proxy/rewrites/extensions.js';
import { rewriteLinks, v2Links, v3HrefToV2 } from '../../src/proxy/rewrites/links.js';
import { versionDiscovery } from '../../src/proxy/rewrites/versions.js';
import type { RewriteContext } from '../../src/proxy/rewrites/types.js';
import { fixtureJson } from '../helpers/fixtures.js';
import { WRS_EXTENSIONS } from '../helpers/proxy-harness.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const VOL = '094098e3-67cd-4a57-a683-a518cb8020db';
const SNAP = '83dfb006-0751-464b-9eae-96fd15d6e95b';
const NONE: ResourceOverlay = { backupStatus: null, status: null, progress: null };

function ctx(method: string, path: string, extra: Partial<RewriteContext> = {},
  overlays: Record<string, ResourceOverlay> = {}): RewriteContext {
  return {
    method, target: parseTarget(method, path), translated: false, v2ByTranslation: false, injectBackupStatus: true,
    overlay: (type: ResourceType, id: string) => overlays[`${type}:${id}`] ?? NONE,
    extensions: WRS_EXTENSIONS, publicBase: 'http://proxy.example:9776', ...extra,
  };
}

describe('volume and snapshot overlay', () => {
  const exporting = { [`volume:${VOL}`]: { backupStatus: 'Export started at 2026-11-27 03:00:00.123456', status: 'exporting', progress: '37%' } };

  it('matches detail and show, not the summary list, summary or sub-resources', () => {
    expect(volumeOverlay.matches(ctx('GET', `/v2/${P}/volumes/detail`))).toBe(true);
    expect(volumeOverlay.matches(ctx('GET', `/v3/${P}/volumes/${VOL}`))).toBe(true);
    expect(volumeOverlay.matches(ctx('GET', `/v3/volumes/${VOL}`))).toBe(true);
    expect(volumeOverlay.matches(ctx('GET', `/v3/${P}/volumes`))).toBe(false);
    expect(volumeOverlay.matches(ctx('GET', `/v3/${P}/volumes/summary`))).toBe(false);
    expect(volumeOverlay.matches(ctx('GET', `/v3/${P}/volumes/${VOL}/metadata`))).toBe(false);
    expect(volumeOverlay.matches(ctx('PUT', `/v3/${P}/volumes/${VOL}`))).toBe(false);
    expect(snapshotOverlay.matches(ctx('GET', `/v3/${P}/snapshots/detail`))).toBe(true);
    expect(snapshotOverlay.matches(ctx('GET', `/v3/${P}/snapshots`))).toBe(false);
    expect(snapshotOverlay.matches(ctx('GET', `/v3/${P}/volumes/detail`))).toBe(false);
  });

  it('adds backup_status (null when unknown) and progress, overlays status, on a show answer', () => {
    const body = fixtureJson('volume-get');
    const out = volumeOverlay.apply(body, ctx('GET', `/v3/${P}/volumes/${VOL}`, {}, exporting)) as any;
    expect(out.volume.status).toBe('exporting');
    expect(out.volume['wrs-volume:backup_status']).toBe('Export started at 2026-11-27 03:00:00.123456');
    expect(out.volume['wrs-volume:backup_progress']).toBe('37%');
    expect(out.volume.name).toBe('vol1');
    // pure: the input is not touched
    expect(body.volume.status).toBe('available');
    expect(body.volume['wrs-volume:backup_status']).toBeUndefined();

    const plain = volumeOverlay.apply(fixtureJson('volume-get'), ctx('GET', `/v3/${P}/volumes/${VOL}`)) as any;
    expect(plain.volume).toHaveProperty('wrs-volume:backup_status', null);
    expect(plain.volume).not.toHaveProperty('wrs-volume:backup_progress');
    expect(plain.volume.status).toBe('available');
  });

  it('overlays every volume of a detail list', () => {
    const out = volumeOverlay.apply(fixtureJson('volumes-detail'), ctx('GET', `/v3/${P}/volumes/detail`, {}, exporting)) as any;
    expect(out.volumes.length).toBeGreaterThan(0);
    for (const v of out.volumes) {
      expect(v).toHaveProperty('wrs-volume:backup_status');
      if (v.id === VOL) expect(v.status).toBe('exporting');
    }
  });

  it('only overlays status when backup_status injection is off (wrs-header gating)', () => {
    const out = volumeOverlay.apply(fixtureJson('volume-get'), ctx('GET', `/v3/${P}/volumes/${VOL}`, { injectBackupStatus: false }, exporting)) as any;
    expect(out.volume.status).toBe('exporting');
    expect(out.volume).not.toHaveProperty('wrs-volume:backup_status');
    expect(out.volume).not.toHaveProperty('wrs-volume:backup_progress');
  });

  it('uses the wrs-snapshot prefix for snapshots', () => {
    const overlays = { [`snapshot:${SNAP}`]: { backupStatus: 'Export completed at 2026-11-27 03:00:01', status: null, progress: null } };
    const out = snapshotOverlay.apply(fixtureJson('snapshots-detail'), ctx('GET', `/v3/${P}/snapshots/detail`, {}, overlays)) as any;
    const snap = out.snapshots.find((s: any) => s.id === SNAP);
    expect(snap['wrs-snapshot:backup_status']).toBe('Export completed at 2026-11-27 03:00:01');
    expect(snap.status).toBe('available');
    const show = snapshotOverlay.apply(fixtureJson('snapshot-get'), ctx('GET', `/v3/${P}/snapshots/${SNAP}`, {}, overlays)) as any;
    expect(show.snapshot['wrs-snapshot:backup_status']).toBe('Export completed at 2026-11-27 03:00:01');
  });

  it('leaves bodies of another shape alone', () => {
    expect(volumeOverlay.apply([1, 2], ctx('GET', `/v3/${P}/volumes/detail`))).toEqual([1, 2]);
    expect(volumeOverlay.apply({ volumes: [{ name: 'no id' }] }, ctx('GET', `/v3/${P}/volumes/detail`))).toEqual({ volumes: [{ name: 'no id' }] });
  });
});

describe('extension list', () => {
  it('appends ours to the upstream list without dropping or duplicating', () => {
    const upstream = fixtureJson('extensions');
    const c = ctx('GET', `/v2/${P}/extensions`);
    expect(extensionList.matches(c)).toBe(true);
    expect(extensionList.matches(ctx('GET', `/v2/${P}/extensions/wrs-volume`))).toBe(false);
    const out = extensionList.apply(upstream, c) as any;
    expect(out.extensions.length).toBe(upstream.extensions.length + 2);
    expect(out.extensions.slice(0, upstream.extensions.length)).toEqual(upstream.extensions);
    expect(out.extensions.slice(-2)).toEqual(WRS_EXTENSIONS);
    const again = extensionList.apply(out, c) as any;
    expect(again.extensions.length).toBe(out.extensions.length);
  });
});

describe('v2 links', () => {
  it('rewrites only the version segment of hrefs', () => {
    expect(v3HrefToV2(`http://h:8776/v3/${P}/volumes/${VOL}`)).toBe(`http://h:8776/v2/${P}/volumes/${VOL}`);
    expect(v3HrefToV2(`http://h/v3/${P}/volumes/detail?marker=v3&limit=1`)).toBe(`http://h/v2/${P}/volumes/detail?marker=v3&limit=1`);
    expect(v3HrefToV2(`http://h:8776/${P}/volumes/${VOL}`)).toBe(`http://h:8776/${P}/volumes/${VOL}`);
    expect(v3HrefToV2('https://docs.openstack.org/')).toBe('https://docs.openstack.org/');
    expect(v3HrefToV2(`/v3/${P}/volumes`)).toBe(`/v2/${P}/volumes`);
    expect(v3HrefToV2('http://v3.example.org/v3/x')).toBe('http://v3.example.org/v2/x');
  });

  it('walks links and *_links arrays anywhere, leaving other strings alone', () => {
    const body = {
      volumes: [{ id: 'a', description: 'see /v3/ docs', links: [{ rel: 'self', href: 'http://h/v3/p/volumes/a' }] }],
      volumes_links: [{ rel: 'next', href: 'http://h/v3/p/volumes?marker=a' }],
      nested: { deeper: [{ links: [{ href: 'http://h/v3/p/x', rel: 'self' }, 'not-an-object'] }] },
    };
    const out = rewriteLinks(body) as any;
    expect(out.volumes[0].links[0].href).toBe('http://h/v2/p/volumes/a');
    expect(out.volumes[0].description).toBe('see /v3/ docs');
    expect(out.volumes_links[0].href).toBe('http://h/v2/p/volumes?marker=a');
    expect(out.nested.deeper[0].links[0].href).toBe('http://h/v2/p/x');
    expect(out.nested.deeper[0].links[1]).toBe('not-an-object');
    expect(body.volumes[0]!.links[0]!.href).toBe('http://h/v3/p/volumes/a');
  });

  it('applies to translated requests only, and not to version documents', () => {
    expect(v2Links.matches(ctx('GET', `/v2/${P}/volumes`, { translated: true }))).toBe(true);
    expect(v2Links.matches(ctx('POST', `/v2/${P}/volumes`, { translated: true }))).toBe(true);
    expect(v2Links.matches(ctx('GET', `/v2/${P}/volumes`))).toBe(false);
    expect(v2Links.matches(ctx('GET', '/v2/', { translated: true }))).toBe(false);
  });
});

describe('version discovery', () => {
  it('adds a DEPRECATED v2 entry pointing at the proxy when the upstream lists none', () => {
    const c = ctx('GET', '/', { v2ByTranslation: true });
    expect(versionDiscovery.matches(c)).toBe(true);
    expect(versionDiscovery.acceptsStatus!(300)).toBe(true);
    const upstream = fixtureJson('versions-root');
    const out = versionDiscovery.apply(upstream, c) as any;
    expect(out.versions.length).toBe(2);
    const v2 = out.versions.find((v: any) => v.id === 'v2.0');
    expect(v2).toMatchObject({ status: 'DEPRECATED', version: '', min_version: '' });
    expect(v2.links).toContainEqual({ rel: 'self', href: 'http://proxy.example:9776/v2/' });
    expect(Object.keys(v2['media-types'][0]).sort()).toEqual(Object.keys(upstream.versions[0]['media-types'][0]).sort());
    expect(v2['media-types'][0].type).toBe('application/vnd.openstack.volume+json;version=2');
    expect(out.versions.find((v: any) => v.id === 'v3.0')).toEqual(upstream.versions[0]);
    // already listed: unchanged
    expect(versionDiscovery.apply(out, c)).toEqual(out);
  });

  it('applies to GET / and the translated v2 document only when v2 is served by translation', () => {
    expect(versionDiscovery.matches(ctx('GET', '/'))).toBe(false);
    expect(versionDiscovery.matches(ctx('GET', '/v2/', { v2ByTranslation: true, translated: true }))).toBe(true);
    expect(versionDiscovery.matches(ctx('GET', '/v3/', { v2ByTranslation: true }))).toBe(false);
    expect(versionDiscovery.matches(ctx('GET', `/v2/${P}/volumes`, { v2ByTranslation: true, translated: true }))).toBe(false);
  });
});

describe('the rewrite list', () => {
  it('selects by method and path, and by status (2xx by default)', () => {
    const selected = selectRewrites(ctx('GET', `/v2/${P}/volumes/detail`, { translated: true }));
    expect(selected.map((r) => r.name)).toEqual(['v2-links', 'volume-overlay']);
    expect(acceptsStatus(selected, 200)).toHaveLength(2);
    expect(acceptsStatus(selected, 404)).toHaveLength(0);
    expect(selectRewrites(ctx('GET', `/v3/${P}/volumes`))).toEqual([]);
    expect(REWRITES.length).toBe(5);
  });

  it('runs the selected rewrites in order', () => {
    const c = ctx('GET', `/v2/${P}/volumes/${VOL}`, { translated: true });
    const out = applyRewrites(fixtureJson('volume-get'), c, selectRewrites(c)) as any;
    expect(out.volume.links[0].href).toContain(`/v2/${P}/volumes/${VOL}`);
    expect(out.volume).toHaveProperty('wrs-volume:backup_status', null);
  });
});
