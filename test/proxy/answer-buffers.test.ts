import { describe, expect, it } from 'vitest';
import { AnswerBuffers } from '../../src/proxy/answer-buffers.js';
import { ReceivedBytes } from '../../src/proxy/received-bytes.js';

const MiB = 1024 * 1024;

describe('AnswerBuffers', () => {
  it('lends power-of-two buffers for big answers and lends a given-back one again', () => {
    const pool = new AnswerBuffers(16 * MiB);
    const a = pool.take(962 * 1024);
    expect(a.length).toBe(MiB);
    pool.giveBack(a.subarray(0, 10));
    const b = pool.take(MiB - 5);
    expect(b.buffer).toBe(a.buffer);
    // a different size class is a different buffer
    expect(pool.take(2 * MiB).buffer).not.toBe(a.buffer);
  });

  it('never lends one buffer twice: a second give-back and a foreign buffer are ignored', () => {
    const pool = new AnswerBuffers(16 * MiB);
    const a = pool.take(MiB);
    pool.giveBack(a);
    pool.giveBack(a);
    pool.giveBack(Buffer.allocUnsafeSlow(MiB));
    const first = pool.take(MiB);
    const second = pool.take(MiB);
    expect(first.buffer).toBe(a.buffer);
    expect(second.buffer).not.toBe(a.buffer);
  });

  it('keeps at most its byte budget; larger sizes are never pooled', () => {
    const pool = new AnswerBuffers(2 * MiB);
    const lent = [pool.take(MiB), pool.take(MiB), pool.take(MiB)];
    for (const b of lent) pool.giveBack(b);
    const again = [pool.take(MiB), pool.take(MiB), pool.take(MiB)].map((b) => b.buffer);
    expect(again.filter((m) => lent.some((b) => b.buffer === m))).toHaveLength(2);
    const huge = pool.take(3 * MiB);
    expect(huge.length).toBe(3 * MiB);
    pool.giveBack(huge);
    expect(pool.take(3 * MiB).buffer).not.toBe(huge.buffer);
  });
});

describe('ReceivedBytes', () => {
  it('holds the chunks in order, growing past its first room; earlier views keep their bytes', () => {
    const received = new ReceivedBytes(NaN, new AnswerBuffers(16 * MiB));
    const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(5000 + i, i));
    const views: Buffer[] = [];
    for (const chunk of chunks) { received.add(chunk); views.push(received.bytes()); }
    expect(received.bytes().equals(Buffer.concat(chunks))).toBe(true);
    views.forEach((view, i) => expect(view.equals(Buffer.concat(chunks.slice(0, i + 1))), `view ${i}`).toBe(true));
  });

  it('sized by the declared length: one chunk of exactly that length is kept without a copy, several are joined', () => {
    const pool = new AnswerBuffers(16 * MiB);
    const one = Buffer.from('{"volumes": []}');
    const single = new ReceivedBytes(one.length, pool);
    single.add(one);
    expect(single.bytes().buffer).toBe(one.buffer);
    const several = new ReceivedBytes(one.length, pool);
    several.add(one.subarray(0, 4));
    several.add(one.subarray(4));
    expect(several.bytes().equals(one)).toBe(true);
  });

  it('gives its buffer back on release, once, and holds nothing after it', () => {
    const pool = new AnswerBuffers(16 * MiB);
    const received = new ReceivedBytes(300 * 1024, pool);
    received.add(Buffer.alloc(100 * 1024, 1));
    const memory = received.bytes().buffer;
    received.release();
    received.release();
    expect(received.bytes().length).toBe(0);
    expect(pool.take(300 * 1024).buffer).toBe(memory);
    expect(pool.take(300 * 1024).buffer).not.toBe(memory);
  });
});
