import { open } from 'node:fs/promises';
import { BufferPool } from '../buffer-pool.js';
import type { Piece } from '../zero.js';
import { spawnArgv } from './process.js';

/** A range of the volume that holds data; everything outside the extents of a map reads as zeros. */
export interface Extent { offset: number; length: number }

/** Reads are cut at this grid (the archive's member size), so a read piece is a whole member's input. */
const READ_BLOCK = 4 * 1024 * 1024;
/** A map's output beyond this is not a map. */
const MAX_MAP_BYTES = 64 * 1024 * 1024;
/**
 * The read buffers of every export in this process: the compressor gives each block back once it is done
 * with it, so a few buffers serve all volumes. One pool for the process, not one per export: a pool's
 * buffers live long enough to reach V8's old generation, and a pool left behind by each export stayed in
 * the RSS of an idle proxy until a full GC (+25 % over a 2-minute soak with an export every 20 s).
 */
const readBuffers = new BufferPool(READ_BLOCK, 4);

/** Sorted, clipped to the size, overlaps merged, and gaps under `minHole` merged away (not worth a hole). */
export function normalise(extents: Extent[], size: number, minHole: number): Extent[] {
  const sorted = extents.filter((e) => e.length > 0 && e.offset < size).sort((a, b) => a.offset - b.offset);
  const out: Extent[] = [];
  for (const e of sorted) {
    const end = Math.min(size, e.offset + e.length);
    const last = out[out.length - 1];
    if (last && e.offset <= last.offset + last.length + minHole) last.length = Math.max(last.length, end - last.offset);
    else out.push({ offset: e.offset, length: end - e.offset });
  }
  return out;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** `[{"offset": N, "length": N}, ...]` (rbd diff --format json); `"exists": false` entries are discarded ranges. */
export function parseExtentList(text: string): Extent[] {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { throw new Error('map command output is not JSON'); }
  if (!Array.isArray(doc)) throw new Error('map command output is not a JSON list');
  return doc.flatMap((e: unknown, i) => {
    const r = e as { offset?: unknown; length?: unknown; exists?: unknown } | null;
    if (typeof r !== 'object' || r === null || !isCount(r.offset) || !isCount(r.length)) {
      throw new Error(`map command output: entry ${i} is not {offset, length}`);
    }
    return r.exists === false || r.exists === 'false' ? [] : [{ offset: r.offset, length: r.length }];
  });
}

/** qemu-img map's JSON: entries that read as zero (holes, zero clusters, unallocated in the whole chain) are not data. */
export function parseQemuMap(text: string): Extent[] {
  let doc: unknown;
  try { doc = JSON.parse(text); } catch { throw new Error('qemu-img map output is not JSON'); }
  if (!Array.isArray(doc)) throw new Error('qemu-img map output is not a JSON list');
  return doc.flatMap((e: { start?: unknown; length?: unknown; zero?: unknown; data?: unknown }) => {
    if (!isCount(e.start) || !isCount(e.length)) throw new Error('qemu-img map output: entry without start and length');
    return e.zero === true ? [] : [{ offset: e.start, length: e.length }];
  });
}

/** Run a helper and take its whole stdout (bounded). */
export async function outputOf(argv: string[], signal: AbortSignal): Promise<string> {
  const p = spawnArgv(argv, { stdin: false, stdout: true }, signal);
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of p.stdout!) {
      n += (chunk as Buffer).length;
      if (n > MAX_MAP_BYTES) throw new Error(`${argv[0]}: map output larger than ${MAX_MAP_BYTES} bytes`);
      parts.push(chunk as Buffer);
    }
    await p.exited;
  } finally {
    p.kill();
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Where the data of an image is, through a qcow2 backing chain too. */
export async function qemuImgMap(path: string, format: 'raw' | 'qcow2', signal: AbortSignal): Promise<Extent[]> {
  return parseQemuMap(await outputOf(['qemu-img', 'map', '--output=json', '-f', format, path], signal));
}

/** The volume as pieces: holes between the extents, and `read(extent)` for each extent's bytes. */
export async function* piecesOf(extents: Extent[], size: number, read: (e: Extent) => AsyncIterable<Buffer>): AsyncGenerator<Piece> {
  let pos = 0;
  for (const e of extents) {
    if (e.offset > pos) yield { hole: e.offset - pos };
    let got = 0;
    for await (const chunk of read(e)) { got += chunk.length; yield chunk; }
    if (got !== e.length) throw new Error(`read ${got} of ${e.length} bytes at offset ${e.offset}: the volume changed while being read`);
    pos = e.offset + e.length;
  }
  if (pos < size) yield { hole: size - pos };
}

/** Positional reads of one range of a file, cut at the read grid, one read ahead. */
export function fileRanges(path: string, signal: AbortSignal): { read(e: Extent): AsyncIterable<Buffer>; close(): Promise<void> } {
  const fhP = open(path, 'r');
  fhP.catch(() => {});
  return {
    async *read(e) {
      const fh = await fhP;
      const readAt = async (pos: number, len: number) => {
        const buf = readBuffers.take(len);
        let off = 0;
        while (off < len) {
          const { bytesRead } = await fh.read(buf, off, len - off, pos + off);
          if (bytesRead === 0) break;
          off += bytesRead;
        }
        return off === len ? buf : buf.subarray(0, off);
      };
      const end = e.offset + e.length;
      const nextEnd = (pos: number) => Math.min(end, (Math.floor(pos / READ_BLOCK) + 1) * READ_BLOCK);
      let pos = e.offset;
      let next: Promise<Buffer> | undefined = readAt(pos, nextEnd(pos) - pos);
      while (next) {
        signal.throwIfAborted();
        const buf: Buffer = await next;
        pos += buf.length;
        next = buf.length > 0 && pos < end ? readAt(pos, nextEnd(pos) - pos) : undefined;
        next?.catch(() => {});
        if (buf.length === 0) return;
        yield buf;
      }
    },
    async close() { await (await fhP.catch(() => undefined))?.close(); },
  };
}

/** One helper per extent (its stdout is the extent's bytes), e.g. nbdcopy of a qcow2 range, or a ranged export command. */
export function commandRanges(argvFor: (e: Extent) => string[], signal: AbortSignal): (e: Extent) => AsyncIterable<Buffer> {
  return async function* (e) {
    const p = spawnArgv(argvFor(e), { stdin: false, stdout: true }, signal);
    try {
      for await (const chunk of p.stdout!) yield chunk as Buffer;
      await p.exited;
    } finally {
      p.kill();
    }
  };
}

/**
 * A helper that streams the whole volume although a map says where the data is: bytes outside the
 * extents are passed on as holes, neither checked nor compressed.
 */
export async function* holesFromMap(stream: AsyncIterable<Buffer>, extents: Extent[], size: number): AsyncGenerator<Piece> {
  let pos = 0;
  let i = 0;
  for await (const chunk of stream) {
    let off = 0;
    while (off < chunk.length) {
      while (i < extents.length && extents[i]!.offset + extents[i]!.length <= pos) i++;
      const e = extents[i];
      const inData = e !== undefined && pos >= e.offset;
      const boundary = e === undefined ? size : inData ? e.offset + e.length : e.offset;
      const take = Math.min(chunk.length - off, Math.max(1, boundary - pos));
      yield inData ? chunk.subarray(off, off + take) : { hole: take };
      off += take;
      pos += take;
    }
  }
}
