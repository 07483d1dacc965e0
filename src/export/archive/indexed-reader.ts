import type { FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { promisify } from 'node:util';
import { crc32, gunzip } from 'node:zlib';
import { isAllZero, type Piece } from '../zero.js';
import { looksIndexed, MAX_MEMBER_INPUT, MEMBER_HEADER, readMemberHeader, zeroMember } from './member.js';

const gunzipAsync = promisify(gunzip);
/**
 * Read-ahead window: many small (hole) members come from one read, and a window opened at a header
 * holds the whole of a 4 MiB block's member (even stored: deflate adds 5 bytes per 64 KiB).
 */
const WINDOW = 4 * 1024 * 1024 + 64 * 1024;

/** Whether the archive starts with one of our indexed members (then every member must be one). */
export async function isIndexedArchive(file: FileHandle): Promise<boolean> {
  const head = Buffer.alloc(MEMBER_HEADER);
  const { bytesRead } = await file.read(head, 0, MEMBER_HEADER, 0);
  return bytesRead === MEMBER_HEADER && looksIndexed(head);
}

/** Positional reads through a window, so a run of small members costs one syscall. */
function windowedReader(file: FileHandle, fileSize: number) {
  let buf = Buffer.alloc(0);
  let start = 0;
  return async (pos: number, n: number): Promise<Buffer> => {
    if (pos >= start && pos + n <= start + buf.length) return buf.subarray(pos - start, pos - start + n);
    const len = Math.min(Math.max(n, WINDOW), fileSize - pos);
    if (len < n) throw new Error(`unexpected end of archive: the member at offset ${pos} runs past it`);
    const next = Buffer.allocUnsafe(len);
    for (let off = 0; off < len;) {
      const { bytesRead } = await file.read(next, off, len - off, pos + off);
      if (bytesRead === 0) throw new Error('archive shrank while being read');
      off += bytesRead;
    }
    buf = next;
    start = pos;
    return buf.subarray(0, n);
  };
}

/**
 * Inflate one member (zlib checks its CRC-32 and size) on the thread pool. The size in its trailer must
 * be what came out: a length in the index that lies cuts a member short (zlib: unexpected end) or
 * takes in part of the next one (the trailer read is then not this member's).
 */
async function inflate(bytes: Buffer, at: number): Promise<Buffer> {
  const isize = bytes.readUInt32LE(bytes.length - 4);
  if (isize > MAX_MEMBER_INPUT) throw new Error(`archive index: member at offset ${at} is larger than any we write`);
  let out: Buffer | undefined;
  try {
    out = unstore(bytes, at, isize) ?? await gunzipAsync(bytes, { maxOutputLength: MAX_MEMBER_INPUT + 1 });
  } catch (err) {
    throw new Error(`gzip member at offset ${at}: ${(err as Error).message}`);
  }
  if (out.length !== isize) throw new Error(`archive index: member at offset ${at} does not end where its index says`);
  return out;
}

/**
 * A member of ours whose deflate data is stored blocks only (what incompressible data becomes), copied out
 * and checked against its CRC-32 without zlib, which costs ~3x this on such data. Undefined for any other
 * member (compressed blocks, a header that is not ours): zlib reads those.
 */
function unstore(bytes: Buffer, at: number, isize: number): Buffer | undefined {
  if (bytes.length < MEMBER_HEADER + 8 || bytes[3] !== 0x04) return undefined;
  const end = bytes.length - 8;
  const out = Buffer.allocUnsafe(isize);
  let pos = MEMBER_HEADER;
  let filled = 0;
  for (let final = false; !final;) {
    if (pos + 5 > end) return undefined;
    const head = bytes[pos]!;
    if ((head & 0x06) !== 0) return undefined; // not a stored block: zlib decides
    final = (head & 0x01) === 1;
    const len = bytes.readUInt16LE(pos + 1);
    if ((len ^ bytes.readUInt16LE(pos + 3)) !== 0xffff) throw new Error('invalid stored block lengths');
    if (pos + 5 + len > end || filled + len > isize) return undefined;
    filled += bytes.copy(out, filled, pos + 5, pos + 5 + len);
    pos += 5 + len;
  }
  if (pos !== end) throw new Error(`archive index: member at offset ${at} does not end where its index says`);
  if (filled !== isize) throw new Error(`archive index: member at offset ${at} does not end where its index says`);
  if (crc32(out) !== bytes.readUInt32LE(end)) throw new Error('incorrect data check');
  return out;
}

/**
 * A zero-flagged member must be the canonical zero member byte for byte (then it is a hole, not
 * inflated); anything else (another zlib's output) is inflated and must hold only zeros.
 */
async function zeroPiece(bytes: Buffer, at: number): Promise<Piece> {
  const isize = bytes.readUInt32LE(bytes.length - 4);
  if (isize <= MAX_MEMBER_INPUT && bytes.equals(zeroMember(isize))) return { hole: isize };
  const out = await inflate(bytes, at);
  if (!isAllZero(out)) throw new Error(`archive index: member at offset ${at} is marked all-zero but holds data`);
  return { hole: out.length };
}

/**
 * The decompressed tar stream of an indexed gzip archive, as pieces in order: all-zero members become
 * holes without being inflated; the others inflate several at once (both cores), each checked before
 * it is handed on, so a damaged archive never yields a wrong byte.
 */
export async function* indexedPieces(file: FileHandle, signal: AbortSignal, inFlight = availableParallelism() + 1): AsyncGenerator<Piece> {
  const fileSize = (await file.stat()).size;
  const read = windowedReader(file, fileSize);
  const pending: Promise<Piece>[] = [];
  try {
    for (let pos = 0; pos < fileSize;) {
      signal.throwIfAborted();
      const head = readMemberHeader(await read(pos, MEMBER_HEADER), pos);
      const bytes = await read(pos, head.length);
      const p = head.zero ? zeroPiece(bytes, pos) : inflate(bytes, pos);
      p.catch(() => {}); // awaited in order below
      pending.push(p);
      pos += head.length;
      if (pending.length >= inFlight) yield await pending.shift()!;
    }
    while (pending.length > 0) yield await pending.shift()!;
  } finally {
    pending.length = 0;
  }
}
