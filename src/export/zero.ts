/** Read-only zeros, shared: handed out as slices for holes that must become bytes. Never written to. */
const ZEROS = Buffer.alloc(4 * 1024 * 1024);

/** True when every byte is 0 (compares against the shared zero page, 4 MiB at a time). */
export function isAllZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZEROS.length) {
    const len = Math.min(ZEROS.length, buf.length - off);
    if (!buf.subarray(off, off + len).equals(ZEROS.subarray(0, len))) return false;
  }
  return true;
}

/** A run of zeros the volume holds without its bytes being read (a hole, or an all-zero member). */
export interface Hole { hole: number }
/** What moves through export and import: bytes, or a length of zeros not materialised. */
export type Piece = Buffer | Hole;

export const isHole = (p: Piece): p is Hole => !Buffer.isBuffer(p);
export const pieceLength = (p: Piece): number => (Buffer.isBuffer(p) ? p.length : p.hole);

/** Zeros as bytes, for consumers that need them (none/zstd archives, devices, helper stdin). */
export function* zeroBytes(length: number): Generator<Buffer> {
  for (let left = length; left > 0; left -= ZEROS.length) yield ZEROS.subarray(0, Math.min(left, ZEROS.length));
}

/** The same stream with every hole turned into zero bytes. */
export async function* expandHoles(input: AsyncIterable<Piece>): AsyncGenerator<Buffer> {
  for await (const p of input) {
    if (isHole(p)) yield* zeroBytes(p.hole);
    else yield p;
  }
}
