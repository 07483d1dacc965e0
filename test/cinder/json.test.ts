import { describe, expect, it } from 'vitest';
import { cinderJson } from '../../src/cinder/json.js';

describe('cinderJson', () => {
  it("writes Python json.dumps' separators", () => {
    expect(cinderJson({ volume: { id: 'a', size: 1, tags: [1, 2], x: null, ok: true } }))
      .toBe('{"volume": {"id": "a", "size": 1, "tags": [1, 2], "x": null, "ok": true}}');
  });

  it('escapes non-ASCII like ensure_ascii=True, and round-trips through JSON.parse', () => {
    const value = { name: 'vol-é-日本', emoji: '💾', quote: 'a"b\\c\n' };
    const text = cinderJson(value);
    expect(text).toBe('{"name": "vol-\\u00e9-\\u65e5\\u672c", "emoji": "\\ud83d\\udcbe", "quote": "a\\"b\\\\c\\n"}');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('leaves out undefined members and writes empty containers', () => {
    expect(cinderJson({ a: undefined, b: [], c: {} })).toBe('{"b": [], "c": {}}');
  });
});
