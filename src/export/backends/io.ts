import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { isAllZero, zeroBytes } from '../zero.js';
import { spawnArgv, waitDrain } from './process.js';
import type { ReadSource, WriteSink } from './types.js';

const READ_CHUNK = 4 * 1024 * 1024;
/** Zero runs are detected at this granularity (a file system block multiple). */
const HOLE_BLOCK = 64 * 1024;

/** Read `size` bytes of a raw file or device from offset 0. */
export function rawSource(path: string, size: number, signal: AbortSignal): ReadSource {
  const stream = size > 0
    ? createReadStream(path, { start: 0, end: size - 1, highWaterMark: READ_CHUNK, signal })
    : createReadStream(path, { start: 0, end: -1, signal });
  const done = finished(stream);
  done.catch(() => {});
  return { size, pieces: stream, done, close: () => stream.destroy() };
}

/** Write sequentially into an existing file or device (every byte, zeros included). */
export async function sequentialSink(path: string): Promise<WriteSink> {
  const fh = await open(path, 'r+');
  return positionalSink(fh, false);
}

/**
 * Write into a regular file leaving holes for all-zero blocks: the file is first emptied
 * (truncate to 0, then back to its size, so every old byte reads as zero) and only non-zero
 * blocks are written.
 */
export async function sparseFileSink(path: string, fileSize: number): Promise<WriteSink> {
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(0);
    await fh.truncate(fileSize);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return positionalSink(fh, true);
}

function positionalSink(fh: FileHandle, skipZeros: boolean): WriteSink {
  let pos = 0;
  let closed = false;
  const writeAll = async (buf: Buffer, at: number) => {
    let off = 0;
    while (off < buf.length) {
      const { bytesWritten } = await fh.write(buf, off, buf.length - off, at + off);
      off += bytesWritten;
    }
  };
  return {
    async write(chunk) {
      if (!skipZeros) {
        await writeAll(chunk, pos);
      } else {
        // coalesce non-zero blocks into runs; blocks are aligned to absolute offsets
        let runStart = -1;
        let off = 0;
        while (off < chunk.length) {
          const end = Math.min(chunk.length, off + HOLE_BLOCK - ((pos + off) % HOLE_BLOCK));
          const zero = isAllZero(chunk.subarray(off, end));
          if (!zero && runStart < 0) runStart = off;
          if (zero && runStart >= 0) { await writeAll(chunk.subarray(runStart, off), pos + runStart); runStart = -1; }
          off = end;
        }
        if (runStart >= 0) await writeAll(chunk.subarray(runStart), pos + runStart);
      }
      pos += chunk.length;
    },
    async zeros(length) {
      // a sparse file was emptied first: its hole already reads as zeros
      if (!skipZeros) for (const z of zeroBytes(length)) { await writeAll(z, pos); pos += z.length; }
      else pos += length;
    },
    async finish() {
      await fh.sync();
      closed = true;
      await fh.close();
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => {});
    },
  };
}

/** Write into a helper process's stdin (an import command, or nbdcopy into a qcow2 file). */
export function processSink(argv: string[], signal: AbortSignal): WriteSink {
  const p = spawnArgv(argv, { stdin: true, stdout: false }, signal);
  const stdin = p.child.stdin!;
  const write = async (chunk: Buffer) => {
    if (stdin.write(chunk)) return;
    // a helper that died: its exit status is the better reason than EPIPE
    await waitDrain(p).catch(async (err) => { await p.exited; throw err; });
  };
  return {
    write,
    async zeros(length) { for (const z of zeroBytes(length)) await write(z); },
    async finish() {
      stdin.end();
      await p.exited;
    },
    async close() {
      p.kill();
      await p.exited.catch(() => {});
    },
  };
}
