import { availableParallelism } from 'node:os';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { isAllZero } from '../zero.js';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  level: number;
  /** Input bytes per gzip member. */
  chunkSize?: number;
  /** Chunks compressing at once (on the libuv threadpool); bounds memory to ~2x this many chunks. */
  inFlight?: number;
}

const DEFAULT_CHUNK = 4 * 1024 * 1024;
const PROBE = 128 * 1024;
/** A probe that does not get below this ratio marks the chunk as incompressible (stored, level 0). */
const INCOMPRESSIBLE = 0.97;

/**
 * Group a byte stream into chunks of about `size` bytes (members need not be equal): a big piece passes
 * as it is, small pieces are joined, and nothing is copied that need not be (copies cost GC time).
 */
export async function* rechunk(input: AsyncIterable<Buffer>, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  const take = () => { const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have); parts = []; have = 0; return out; };
  for await (const piece of input) {
    if (piece.length >= size / 2) {
      if (have > 0) yield take();
      // a big piece that is much larger than a chunk is split so members stay parallel
      for (let off = 0; off < piece.length; off += size) yield piece.subarray(off, Math.min(piece.length, off + size));
      continue;
    }
    parts.push(piece);
    have += piece.length;
    if (have >= size) yield take();
  }
  if (have > 0) yield take();
}

/**
 * gzip as concatenated members, one per chunk, compressed in parallel and emitted in order.
 * `gzip -d`, GNU tar -z and Python's tarfile read multi-member files as one stream.
 */
export function parallelGzip(opts: ParallelGzipOptions): (input: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  // one chunk more than there are cores keeps every core busy; more only holds more buffers in memory
  const inFlight = opts.inFlight ?? availableParallelism() + 1;
  // the member for an all-zero chunk is always the same bytes: compress it once
  const zeroMembers = new Map<number, Promise<Buffer>>();

  async function member(chunk: Buffer): Promise<Buffer> {
    if (isAllZero(chunk)) {
      let m = zeroMembers.get(chunk.length);
      if (!m) { m = gzipAsync(chunk, { level: Math.max(1, opts.level) }); zeroMembers.set(chunk.length, m); }
      return m;
    }
    let level = opts.level;
    if (level > 0 && chunk.length > PROBE) {
      const probe = await gzipAsync(chunk.subarray(0, PROBE), { level });
      if (probe.length >= PROBE * INCOMPRESSIBLE) level = 0;
    }
    return gzipAsync(chunk, { level });
  }

  return async function* compress(input) {
    const pending: Promise<Buffer>[] = [];
    for await (const chunk of rechunk(input, chunkSize)) {
      const p = member(chunk);
      p.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
      pending.push(p);
      if (pending.length >= inFlight) yield await pending.shift()!;
    }
    while (pending.length > 0) yield await pending.shift()!;
  };
}
