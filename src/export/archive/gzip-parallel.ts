import { availableParallelism } from 'node:os';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { isAllZero, isHole, pieceLength, zeroBytes, type Piece } from '../zero.js';
import { giveBack } from '../buffer-pool.js';
import { frameMember, storedMember, zeroMember } from './member.js';

const gzipAsync = promisify(gzip);

export interface ParallelGzipOptions {
  level: number;
  /** Input bytes per gzip member (the grid block). */
  chunkSize?: number;
  /** Chunks compressing at once (on the libuv threadpool); bounds memory to ~2x this many chunks. */
  inFlight?: number;
}

export const DEFAULT_CHUNK = 4 * 1024 * 1024;
/**
 * Members start at GRID_ORIGIN + k * chunkSize: the tar header block of the first member is a member of
 * its own, so every later member covers one aligned block of the volume, and a hole block is always
 * the same member.
 */
export const GRID_ORIGIN = 512;
/** Bytes compressed to judge a chunk: on random data level 1 runs at ~60 MB/s here, so the probe is kept small. */
const PROBE = 32 * 1024;
/** A probe that does not get below this ratio marks the chunk as incompressible (stored, level 0). */
const INCOMPRESSIBLE = 0.97;

function slice(p: Piece, start: number, end: number): Piece {
  return isHole(p) ? { hole: end - start } : p.subarray(start, end);
}

/** Cut a piece stream at the grid's boundaries: each chunk is the pieces of one member. */
export async function* gridChunks(input: AsyncIterable<Piece>, size: number): AsyncGenerator<Piece[]> {
  let pos = 0;
  let parts: Piece[] = [];
  const boundaryAfter = (p: number) => (p < GRID_ORIGIN ? GRID_ORIGIN : GRID_ORIGIN + (Math.floor((p - GRID_ORIGIN) / size) + 1) * size);
  for await (const piece of input) {
    const len = pieceLength(piece);
    let off = 0;
    while (off < len) {
      const take = Math.min(boundaryAfter(pos) - pos, len - off);
      parts.push(off === 0 && take === len ? piece : slice(piece, off, off + take));
      off += take;
      pos += take;
      if (pos === boundaryAfter(pos - 1)) { yield parts; parts = []; }
    }
  }
  if (parts.length > 0) yield parts;
}

/** One buffer of a chunk's bytes; holes become zeros here (a chunk that is only partly a hole). */
function materialise(parts: Piece[]): Buffer {
  if (parts.length === 1 && !isHole(parts[0]!)) return parts[0] as Buffer;
  const bufs: Buffer[] = [];
  for (const p of parts) {
    if (isHole(p)) bufs.push(...zeroBytes(p.hole));
    else bufs.push(p);
  }
  return Buffer.concat(bufs);
}

const allZero = (parts: Piece[]) => parts.every((p) => isHole(p) || isAllZero(p));

/**
 * gzip as concatenated indexed members, one per grid block, compressed in parallel and emitted in
 * order. `gzip -d`, GNU tar -z and Python's tarfile read multi-member files as one stream.
 */
export function parallelGzip(opts: ParallelGzipOptions): (input: AsyncIterable<Piece>) => AsyncGenerator<Buffer> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK;
  // one chunk more than there are cores keeps every core busy; more only holds more buffers in memory
  const inFlight = opts.inFlight ?? availableParallelism() + 1;

  async function member(parts: Piece[]): Promise<Buffer[]> {
    try {
      return await compressMember(parts);
    } finally {
      // the input is no longer read (zlib is done with it, a stored member holds a copy): its buffers may be reused
      for (const p of parts) if (!isHole(p)) giveBack(p);
    }
  }

  async function compressMember(parts: Piece[]): Promise<Buffer[]> {
    // holes (and blocks read as zeros) are the one member made once: neither read nor compressed again
    if (allZero(parts)) return [zeroMember(parts.reduce((n, p) => n + pieceLength(p), 0))];
    const chunk = materialise(parts);
    let level = opts.level;
    if (level > 0 && chunk.length > PROBE) {
      const probe = await gzipAsync(chunk.subarray(0, PROBE), { level });
      if (probe.length >= PROBE * INCOMPRESSIBLE) level = 0;
    }
    return level === 0 ? storedMember(chunk) : frameMember(await gzipAsync(chunk, { level }), false);
  }

  return async function* compress(input) {
    const pending: Promise<Buffer[]>[] = [];
    for await (const parts of gridChunks(input, chunkSize)) {
      const p = member(parts);
      p.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
      pending.push(p);
      if (pending.length >= inFlight) yield* await pending.shift()!;
    }
    while (pending.length > 0) yield* await pending.shift()!;
  };
}
