import { crc32, gzipSync } from 'node:zlib';

/**
 * Our gzip members carry an index in a gzip extra field (RFC 1952 FEXTRA, as BGZF does; readers that
 * do not know the subfield skip it): the member's total length, so a reader finds every member without
 * inflating the ones before it, and a flag marking an all-zero member. The subfield holds a CRC-32 of
 * the header before it, so a damaged index is noticed rather than followed.
 *
 *   1f 8b 08 04 | mtime 0 (4) | xfl | os 3 | xlen 14 (2) | 'S' 'X' | len 10 (2)
 *   | version 1 | flags (bit 0: all zero) | member length (u32 LE) | crc32 of bytes 0..21 (u32 LE)
 */
export const MEMBER_HEADER = 26;
const SUB_ID = [0x53, 0x58];
const VERSION = 1;
const FLAG_ZERO = 1;
/** Members are one grid block (4 MiB) of input; anything far bigger in an index is not one of ours. */
export const MAX_MEMBER_INPUT = 64 * 1024 * 1024;
export const MAX_MEMBER_BYTES = MAX_MEMBER_INPUT + MAX_MEMBER_INPUT / 512 + 4096;

export interface MemberHeader { length: number; zero: boolean }

function header(bodyAndTrailer: number, zero: boolean, xfl: number): Buffer {
  const h = Buffer.alloc(MEMBER_HEADER);
  h.set([0x1f, 0x8b, 0x08, 0x04], 0);
  h[8] = xfl;
  h[9] = 3;
  h.writeUInt16LE(14, 10);
  h.set(SUB_ID, 12);
  h.writeUInt16LE(10, 14);
  h[16] = VERSION;
  h[17] = zero ? FLAG_ZERO : 0;
  h.writeUInt32LE(MEMBER_HEADER + bodyAndTrailer, 18);
  h.writeUInt32LE(crc32(h.subarray(0, 22)), 22);
  return h;
}

/**
 * Turn node's gzip output (a plain 10-byte header, deflate data, CRC-32 and size: zlib computed them on
 * its thread pool) into one of our members, as buffers to write one after the other (no copy).
 */
export function frameMember(gz: Buffer, zero: boolean): [Buffer, Buffer] {
  if (gz[0] !== 0x1f || gz[1] !== 0x8b || gz[3] !== 0) throw new Error('unexpected gzip header from zlib');
  const body = gz.subarray(10);
  return [header(body.length, zero, gz[8]!), body];
}

/** Deflate's stored blocks hold at most this many bytes each (RFC 1951 3.2.4). */
const STORED_BLOCK = 65535;

/**
 * One of our members holding `data` uncompressed (deflate stored blocks), for data that does not compress:
 * zlib's level 0 goes through its compressor and costs ~4x this copy and CRC-32. Any inflater reads it.
 */
export function storedMember(data: Buffer): [Buffer, Buffer] {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_BLOCK));
  const body = Buffer.allocUnsafe(blocks * 5 + data.length + 8);
  let at = 0;
  for (let b = 0; b < blocks; b++) {
    const start = b * STORED_BLOCK;
    const len = Math.min(STORED_BLOCK, data.length - start);
    body[at] = b === blocks - 1 ? 1 : 0; // BFINAL on the last, BTYPE 00 (stored)
    body.writeUInt16LE(len, at + 1);
    body.writeUInt16LE(~len & 0xffff, at + 3);
    at += 5 + data.copy(body, at + 5, start, start + len);
  }
  body.writeUInt32LE(crc32(data), at);
  body.writeUInt32LE(data.length % 2 ** 32, at + 4);
  return [header(body.length, false, 0), body];
}

const zeroMembers = new Map<number, Buffer>();

/**
 * The member for `size` zero bytes, compressed once at the best level and reused for every hole block.
 * A reader compares a zero-flagged member with these bytes exactly before trusting it.
 */
export function zeroMember(size: number): Buffer {
  let m = zeroMembers.get(size);
  if (!m) {
    m = Buffer.concat(frameMember(gzipSync(Buffer.alloc(size), { level: 9 }), true));
    // a hostile archive may name many sizes; keep only the few an export uses
    if (zeroMembers.size < 8) zeroMembers.set(size, m);
  }
  return m;
}

/** Whether these bytes start one of our members (by magic and subfield id), without checking more. */
export function looksIndexed(head: Buffer): boolean {
  return head.length >= MEMBER_HEADER && head[0] === 0x1f && head[1] === 0x8b && head[2] === 0x08 && head[3] === 0x04 &&
    head.readUInt16LE(10) === 14 && head[12] === SUB_ID[0] && head[13] === SUB_ID[1] && head.readUInt16LE(14) === 10;
}

/** Parse and check a member header; throws when it is not one of ours or its index is damaged. */
export function readMemberHeader(head: Buffer, at: number): MemberHeader {
  if (!looksIndexed(head)) throw new Error(`archive index: no indexed gzip member at offset ${at}`);
  if (head.readUInt32LE(22) !== crc32(head.subarray(0, 22))) throw new Error(`archive index: damaged member header at offset ${at}`);
  if (head[16] !== VERSION || (head[17]! & ~FLAG_ZERO) !== 0) throw new Error(`archive index: unknown member format at offset ${at}`);
  const length = head.readUInt32LE(18);
  if (length < MEMBER_HEADER + 10 || length > MAX_MEMBER_BYTES) throw new Error(`archive index: impossible member length ${length} at offset ${at}`);
  return { length, zero: (head[17]! & FLAG_ZERO) !== 0 };
}
