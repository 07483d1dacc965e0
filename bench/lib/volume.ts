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

/**
 * `runs` runs of `runBytes` fresh random bytes: spread evenly over a sparse file of `bytes` (holes between),
 * or, `dense`, back to back in a file of just the runs (the same amount of data, no holes).
 */
export async function writeRunsVolume(path: string, bytes: number, runs: number, runBytes: number, dense: boolean): Promise<void> {
  await writeSparseVolume(path, dense ? runs * runBytes : bytes);
  const fh = await open(path, 'r+');
  try {
    const buf = Buffer.alloc(CHUNK);
    const stride = dense ? runBytes : Math.floor(bytes / runs / CHUNK) * CHUNK;
    for (let r = 0; r < runs; r++) {
      for (let off = 0; off < runBytes; off += CHUNK) {
        const len = Math.min(CHUNK, runBytes - off);
        randomFillSync(buf, 0, len);
        await fh.write(buf, 0, len, r * stride + off);
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
