import { describe, expect, it } from 'vitest';
import { classify } from '../../src/server/routes.js';

describe('route table', () => {
  it.each([
    ['GET', '/v2/p/extensions/wrs-volume', 'extension-show', 'wrs-volume'],
    ['POST', '/v3/p/volumes/abc/action', 'volume-action', 'abc'],
    ['POST', '/v2/p/volumes/abc/action/', 'volume-action', 'abc'],
    ['POST', '/v2/p/volumes/abc/action?x=1', 'volume-action', 'abc'],
    ['POST', '/v2/p/snapshots/s1/action', 'snapshot-action', 's1'],
    ['DELETE', '/v3/p/volumes/abc', 'volume-delete', 'abc'],
    ['DELETE', '/v3/p/volumes/abc?cascade=true', 'volume-delete', 'abc'],
    ['POST', '/v2/p/snapshots', 'snapshot-create', undefined],
    ['DELETE', '/v2/p/snapshots/s1', 'snapshot-delete', 's1'],
    ['POST', '/v3/p/attachments', 'attachment-create', undefined],
  ])('%s %s is %s', (method, url, kind, id) => {
    const m = classify(method, url);
    expect(m.kind).toBe(kind);
    expect(m.projectId).toBe('p');
    expect(m.id).toBe(id);
  });

  it.each([
    ['GET', '/v2/p/volumes/abc/action'],
    ['PUT', '/v2/p/volumes/abc/action'],
    ['GET', '/v2/p/extensions'],
    ['GET', '/'],
    ['POST', '/v1/p/volumes/abc/action'],
    ['POST', '/v2/p/volumes/a/b/action'],
    ['POST', '/v2/attachments'],
    ['POST', '/v2/p/attachments'],
    ['DELETE', '/v2/p/volumes'],
    ['POST', '/v2/%E0%A4%A/volumes/x/action'],
  ])('%s %s is forwarded', (method, url) => {
    expect(classify(method, url).kind).toBe('forward');
  });

  it('decodes path segments', () => {
    expect(classify('DELETE', '/v2/p/volumes/a%20b').id).toBe('a b');
  });

  it('only action and create routes buffer their body', () => {
    expect(classify('POST', '/v2/p/volumes/x/action').buffersBody).toBe(true);
    expect(classify('DELETE', '/v2/p/volumes/x').buffersBody).toBe(false);
    expect(classify('POST', '/v2/p/volumes').buffersBody).toBe(false);
  });
});
