import { randomFillSync } from 'node:crypto';
import { open, truncate, writeFile } from 'node:fs/promises';

const CHUNK = 4 * 1024 * 1024;

/**
 * The volume of the spec's anchors: the first half random bytes, the second half zeros (written, not
 * sparse). Fresh random bytes per chunk, so no compressor can find repeats.
 */
export async function writeHalfRandomVolume(path: string, bytes: number, signal?: AbortSignal): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const buf = Buffer.alloc(CHUNK);
    const half = Math.floor(bytes / 2);
    for (let pos = 0; pos < bytes; pos += CHUNK) {
      signal?.throwIfAborted();
      const len = Math.min(CHUNK, bytes - pos);
      if (pos < half) randomFillSync(buf, 0, len);
      else buf.fill(0, 0, len);
      // the random half may end inside a chunk
      if (pos < half && pos + len > half) buf.fill(0, half - pos, len);
      await fh.write(buf, 0, len, pos);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A sparse file (all holes) of the given size. */
export async function writeSparseVolume(path: string, bytes: number): Promise<void> {
  await writeFile(path, '');
  await truncate(path, bytes);
}
