const ZEROS = Buffer.alloc(1024 * 1024);

/** True when every byte is 0 (compares against a shared zero page, 1 MiB at a time). */
export function isAllZero(buf: Buffer): boolean {
  for (let off = 0; off < buf.length; off += ZEROS.length) {
    const len = Math.min(ZEROS.length, buf.length - off);
    if (!buf.subarray(off, off + len).equals(ZEROS.subarray(0, len))) return false;
  }
  return true;
}
