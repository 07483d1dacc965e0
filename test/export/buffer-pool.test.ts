import { describe, expect, it } from 'vitest';
import { BufferPool, giveBack } from '../../src/export/buffer-pool.js';

describe('BufferPool: a read buffer is reused only once every byte of it came back', () => {
  it('a buffer given back whole is the next one taken', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take(1024);
    giveBack(a);
    expect(pool.take(512).buffer).toBe(a.buffer);
  });

  it('a buffer given back in parts is reused only after the last part', () => {
    const pool = new BufferPool(1024, 4);
    const a = pool.take(1000);
    giveBack(a.subarray(0, 600));
    const b = pool.take(1000);
    expect(b.buffer).not.toBe(a.buffer);
    giveBack(a.subarray(600));
    expect(pool.take(10).buffer).toBe(a.buffer);
  });

  it('bytes of other buffers, and bytes given back twice, never put a buffer in use back in the pool', () => {
    const pool = new BufferPool(1024, 4);
    giveBack(Buffer.alloc(1024));
    const a = pool.take(1024);
    const b = pool.take(1024);
    expect(b.buffer).not.toBe(a.buffer);
    giveBack(a);
    giveBack(a); // a second time: the buffer is already free, nothing more happens
    const c = pool.take(1024);
    const d = pool.take(1024);
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(a.buffer);
  });

  it('keeps at most `keep` free buffers, and refuses a take larger than its buffers', () => {
    const pool = new BufferPool(64, 1);
    const taken = [pool.take(64), pool.take(64)];
    for (const t of taken) giveBack(t);
    expect(pool.take(64).buffer).toBe(taken[0]!.buffer);
    expect(pool.take(64).buffer).not.toBe(taken[1]!.buffer);
    expect(() => pool.take(65)).toThrow(RangeError);
  });
});
