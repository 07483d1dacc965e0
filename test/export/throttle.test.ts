import { describe, expect, it } from 'vitest';
import { meter } from '../../src/export/throttle.js';

async function* pieces(n: number, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.alloc(size, i);
}

describe('meter (bandwidth limit)', () => {
  it('passes every byte through in order and counts them', async () => {
    const seen: number[] = [];
    const out: Buffer[] = [];
    for await (const c of meter(pieces(5, 100), { bytesPerSec: 0, signal: new AbortController().signal, onBytes: (n) => seen.push(n) })) out.push(c);
    expect(seen).toEqual([100, 200, 300, 400, 500]);
    expect(Buffer.concat(out)).toEqual(Buffer.concat([...Array(5).keys()].map((i) => Buffer.alloc(100, i))));
  });

  it('a throttled stream still stops at once when aborted', async () => {
    const controller = new AbortController();
    const it = meter(pieces(10, 1000), { bytesPerSec: 1, signal: controller.signal });
    const next = it.next(); // would wait ~1000 s for the first 1000 bytes
    controller.abort(new Error('stop'));
    await expect(next).rejects.toThrow();
  });
});
