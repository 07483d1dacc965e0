import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openNewFile, PRIVATE_FILE_MODE } from '../../file-modes.js';
import { memberNames } from '../meta.js';
import type { Compressor } from './compressors.js';
import { publish, sha256Line, tempPathFor, writeFileAtomic } from './atomic.js';
import { BLOCK, encodeHeader } from './tar-format.js';
import { pieceLength, type Piece } from '../zero.js';

export interface ArchiveInput {
  exportDir: string;
  /** Final file name, e.g. `volume-<id>-<stamp>.tgz`. */
  name: string;
  volumeId: string;
  meta: Record<string, unknown>;
  /** The volume's bytes (holes as lengths); exactly `size` of them. */
  data: AsyncIterable<Piece>;
  size: number;
  compress: Compressor;
  signal: AbortSignal;
  /** The writing replica's temp file tag (atomic.ts tempTag). */
  tempTag: string;
  /** Called right before the archive is renamed into place; a rejection publishes nothing (a lost lease). */
  beforePublish?: () => Promise<void>;
  /** Mode of the archive, its checksum and their temp files (engine.fileMode); 0600 when absent. */
  fileMode?: number;
}

export interface ArchiveResult {
  path: string;
  sha256: string;
}

/** The tar stream: `.vol` first, then `.meta`, as the original did; holes stay holes. */
async function* tarPieces(input: ArchiveInput, signal: AbortSignal): AsyncGenerator<Piece> {
  const names = memberNames(input.volumeId);
  const mtime = new Date();
  const pad = (n: number) => (n % BLOCK === 0 ? [] : [Buffer.alloc(BLOCK - (n % BLOCK))]);
  yield encodeHeader({ name: names.vol, size: input.size, mode: 0o600, mtime });
  let count = 0;
  for await (const piece of input.data) {
    signal.throwIfAborted();
    count += pieceLength(piece);
    if (count > input.size) throw new Error(`volume data is longer than its size ${input.size}`);
    yield piece;
  }
  if (count !== input.size) throw new Error(`volume data ended after ${count} of ${input.size} bytes`);
  yield* pad(input.size);
  const meta = Buffer.from(JSON.stringify(input.meta));
  yield encodeHeader({ name: names.meta, size: meta.length, mode: 0o600, mtime });
  yield meta;
  yield* pad(meta.length);
  yield Buffer.alloc(2 * BLOCK); // end of archive
}

/** Join small outputs (a hole's member is ~4 KB) into writes of ~1 MiB: a syscall per member would dominate. */
async function* batched(input: AsyncIterable<Buffer>, size = 1024 * 1024): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  const take = () => { const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, have); parts = []; have = 0; return out; };
  for await (const buf of input) {
    if (buf.length >= size / 4) {
      if (have > 0) yield take();
      yield buf;
      continue;
    }
    parts.push(buf);
    have += buf.length;
    if (have >= size) yield take();
  }
  if (have > 0) yield take();
}

/**
 * Write the archive in one streaming pass into `<exportDir>/temp/<name>.<tag>.part`, hashing the bytes on the
 * way out; then fsync, rename into the export directory, and write `<name>.sha256` the same way.
 * On any failure the temp file is removed and nothing appears in the export directory.
 */
export async function writeArchive(input: ArchiveInput): Promise<ArchiveResult> {
  const temp = tempPathFor(input.exportDir, input.name, input.tempTag);
  const finalPath = join(input.exportDir, input.name);
  const hash = createHash('sha256');
  const mode = input.fileMode ?? PRIVATE_FILE_MODE;
  const fh = await openNewFile(temp, mode);
  let fhOpen = true;
  try {
    for await (const out of batched(input.compress(tarPieces(input, input.signal), input.signal))) {
      hash.update(out);
      let off = 0;
      while (off < out.length) off += (await fh.write(out, off, out.length - off)).bytesWritten;
    }
    input.signal.throwIfAborted();
    await fh.sync();
    fhOpen = false;
    await fh.close();
    await input.beforePublish?.();
    await publish(temp, finalPath);
  } catch (err) {
    if (fhOpen) await fh.close().catch(() => {});
    await rm(temp, { force: true });
    throw input.signal.aborted ? (input.signal.reason ?? err) : err;
  }
  const sha256 = hash.digest('hex');
  try {
    await writeFileAtomic(input.exportDir, `${input.name}.sha256`, sha256Line(sha256, input.name), input.tempTag, mode);
  } catch (err) {
    // a failed job leaves no archive behind, even a complete one
    await rm(finalPath, { force: true });
    throw err;
  }
  return { path: finalPath, sha256 };
}
