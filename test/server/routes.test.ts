import { describe, expect, it } from 'vitest';
import { classify } from '../../src/server/routes.js';
import { parseTarget } from '../helpers/target.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
const V = '094098e3-67cd-4a57-a683-a518cb8020db';
const route = (method: string, url: string, contentType?: string) => classify(parseTarget(method, url, contentType));

describe('route table', () => {
  it.each([
    ['GET', `/v2/${P}/extensions/wrs-volume`, 'extension-show', 'wrs-volume'],
    ['GET', `/v3/${P}/extensions/wrs-volume.json`, 'extension-show', 'wrs-volume'],
    ['POST', `/v3/${P}/volumes/abc/action`, 'volume-action', 'abc'],
    ['POST', `/v3/${P}/volumes/abc/action.json`, 'volume-action', 'abc'],
    ['POST', `/v2/${P}/volumes/abc/action?x=1`, 'volume-action', 'abc'],
    ['POST', `/v2/${P}/snapshots/s1/action`, 'snapshot-action', 's1'],
    ['DELETE', `/v3/${P}/volumes/${V}`, 'volume-delete', V],
    ['DELETE', `/v3/${P}/volumes/${V}.json`, 'volume-delete', V],
    ['DELETE', `/v3//${P}/volumes/${V}`, 'volume-delete', V],
    ['DELETE', `/v3/${P}//volumes/${V}`, 'volume-delete', V],
    ['GET', `/v3/${P}/volumes/${V}?_method=DELETE`, 'volume-delete', V],
    ['DELETE', `/v3/${P}/volumes/${V}?cascade=true`, 'volume-delete', V],
    ['POST', `/v2/${P}/snapshots`, 'snapshot-create', undefined],
    ['DELETE', `/v2/${P}/snapshots/s1`, 'snapshot-delete', 's1'],
    ['POST', `/v3/${P}/attachments`, 'attachment-create', undefined],
    ['PUT', `/v3/${P}/volumes/${V}`, 'harmless-update', V],
    ['PUT', `/v3/${P}/volumes/${V}/metadata/k`, 'harmless-update', V],
  ])('%s %s is %s', (method, url, kind, id) => {
    const m = route(method, url);
    expect(m.kind).toBe(kind);
    expect(m.projectId).toBe(P);
    expect(m.id).toBe(id);
  });

  it.each([
    ['DELETE', `/v3/volumes/${V}`, 'volume-delete'],
    ['POST', `/v3/volumes/${V}/action`, 'volume-action'],
    ['POST', `/v3/snapshots/${V}/action.json`, 'snapshot-action'],
    ['POST', '/v3/attachments', 'attachment-create'],
  ])('%s %s (no project) is %s', (method, url, kind) => {
    const m = route(method, url);
    expect(m.kind).toBe(kind);
    expect(m.projectId).toBeNull();
  });

  it.each([
    ['GET', `/v2/${P}/volumes/abc/action`],
    ['GET', `/v2/${P}/extensions`],
    ['GET', '/'],
    ['POST', `/v1/${P}/volumes/abc/action`],
    ['DELETE', '/healthz'],
    ['PUT', `/v3/${P}/volumes/${V}?_method=GET`],
  ])('%s %s is forwarded as it is', (method, url) => {
    expect(route(method, url).kind).toBe('forward');
  });

  it.each([
    ['POST', `/v2/${P}/volumes/${V}/action/`],
    ['DELETE', `/v3/${P}/volumes/${V}/`],
    ['PUT', `/v2/${P}/volumes/${V}/action`],
    ['POST', `/v2/${P}/volumes/a/b/action`],
    ['PATCH', `/v3/${P}/volumes/${V}`],
    ['DELETE', `/v2/${P}/volumes`],
    ['POST', '/v2/attachments'],
    ['POST', `/v3/${P}/volumes/${V}/unknown`],
  ])('%s %s is a change the table does not know', (method, url) => {
    expect(route(method, url).kind).toBe('mutation');
  });

  it('treats a form-encoded POST as unknown: Cinder may take its method from the body', () => {
    expect(route('POST', `/v3/${P}/volumes/${V}/action`, 'application/x-www-form-urlencoded').kind).toBe('mutation');
  });

  it('decodes path segments', () => {
    expect(route('DELETE', `/v2/${P}/volumes/a%20b`).id).toBe('a b');
  });

  it('only action and create routes buffer their body', () => {
    expect(route('POST', `/v2/${P}/volumes/x/action`).buffersBody).toBe(true);
    expect(route('DELETE', `/v2/${P}/volumes/x`).buffersBody).toBe(false);
    expect(route('POST', `/v2/${P}/volumes`).buffersBody).toBe(true);
    expect(route('GET', `/v2/${P}/volumes`).buffersBody).toBe(false);
    expect(route('PUT', `/v2/${P}/volumes/x`).buffersBody).toBe(false);
  });
});
