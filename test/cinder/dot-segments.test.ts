import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { PROJECT, TOKEN } from '../helpers/fake-cinder.js';
import { jsonHeaders } from '../helpers/http.js';
import { startHarness } from '../helpers/proxy-harness.js';

/** POST with the path exactly as written (a URL string would have its dot segments resolved client-side). */
function post(base: string, path: string, body: string): Promise<{ status: number; json: any }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method: 'POST', headers: jsonHeaders(TOKEN), agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString() || 'null') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// found by test/server/hostile-input.test.ts: `/snapshots/..` went upstream as GET /v3/<project>/ (URL
// resolves dot segments, even written %2E%2E), whose empty 202 came back as the proxy's own 502. The
// forwarder resolves them before Cinder sees the path, so the parser reads the resolved path too: such a
// request is no extension action but a POST to `/<project>/action`, Cinder's to answer
describe('an id of . or .. in an extension action', () => {
  it.each([
    ['snapshots', 'wrs-snapshot:os-export_snapshot'],
    ['volumes', 'wrs-volume:os-volume_export'],
  ])('%s/../action is the path it resolves to, forwarded as such; no job', async (kind, action) => {
    const h = await startHarness();
    for (const id of ['..', '.', '%2E%2e']) {
      const res = await post(h.url, `/v2/${PROJECT}/${kind}/${id}/action`, JSON.stringify({ [action]: {} }));
      expect(res.status).toBe(202);
    }
    const where = (id: string) => (id === '.' ? `/v3/${PROJECT}/${kind}/action` : `/v3/${PROJECT}/action`);
    expect(h.fake.requests.filter((r) => r.url !== '/').map((r) => `${r.method} ${r.url}`))
      .toEqual(['..', '.', '%2E%2e'].map((id) => `POST ${where(id)}`));
    expect(h.engine.submitted).toEqual([]);
  });

  it('answers Cinder\'s 404 when a body names a volume . or .. (nothing asked upstream for it)', async () => {
    const h = await startHarness();
    await h.store.createJob({ kind: 'volume-export', resourceType: 'volume', resourceId: '..', projectId: PROJECT, bytesTotal: 1,
      backend: 'nfs', params: { volumeId: '..', sizeGiB: 1, host: null } });
    const res = await post(h.url, `/v3/${PROJECT}/snapshots`, JSON.stringify({ snapshot: { volume_id: '..' } }));
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ itemNotFound: { code: 404, message: 'Volume .. could not be found.' } });
    expect(h.fake.requests.filter((r) => r.url !== '/')).toEqual([]);
  });
});

// found by the same test: GET /snapshots/detail is Cinder's list; an action on "detail" was a 500 of our own
describe('an id that names a collection route (detail)', () => {
  it.each([
    ['snapshots', 'wrs-snapshot:os-export_snapshot', 'Snapshot'],
    ['volumes', 'wrs-volume:os-volume_export', 'Volume'],
  ])('%s/detail/action is Cinder\'s 404 for that id', async (kind, action, what) => {
    const h = await startHarness();
    const res = await post(h.url, `/v2/${PROJECT}/${kind}/detail/action`, JSON.stringify({ [action]: {} }));
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ itemNotFound: { code: 404, message: `${what} detail could not be found.` } });
    expect(h.engine.submitted).toEqual([]);
  });
});
