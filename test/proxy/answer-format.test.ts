import { describe, expect, it } from 'vitest';
import { serializeRewritten } from '../../src/proxy/answer.js';

describe('serializeRewritten', () => {
  it("writes Cinder's style for ordinary answers and compact JSON for very large lists", () => {
    const body = { volume: { id: 'a', size: 1 } };
    expect(serializeRewritten(body, 1500)).toBe('{"volume": {"id": "a", "size": 1}}');
    expect(serializeRewritten(body, 10 * 1024 * 1024)).toBe('{"volume":{"id":"a","size":1}}');
  });
});
