import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import tar from 'tar-stream';
import { openNewFile, PRIVATE_FILE_MODE } from '../../file-modes.js';
import { memberNames } from '../meta.js';
import type { Compressor } from './compressors.js';
import { publish, sha256Line, tempPathFor, writeFileAtomic } from './atomic.js';

export interface ArchiveInput {
  exportDir: string;
  /** Final file name, e.g. `volume-<id>-<stamp>.tgz`. */
  name: string;
  volumeId: string;
  meta: Record<string, unknown>;
  /** The volume's bytes; exactly `size` of them. */
  data: AsyncIterable<Buffer>;
  size: number;
  compress: Compressor;
  signal: AbortSignal;
  /** Mode of the archive, its checksum and their temp files (engine.fileMode); 0600 when absent. */
  fileMode?: number;
}

export interface ArchiveResult {
  path: string;
  sha256: string;
}

/** Feed the volume and the meta into a tar pack: `.vol` first, then `.meta`, as the original did. */
async function fillPack(pack: tar.Pack, input: ArchiveInput, signal: AbortSignal): Promise<void> {
  const names = memberNames(input.volumeId);
  const mtime = new Date();
  const entry = pack.entry({ name: names.vol, size: input.size, mode: 0o600, mtime, type: 'file' });
  const written = new Promise<void>((resolve, reject) => {
    entry.once('finish', () => resolve());
    entry.once('error', reject);
    entry.once('close', () => resolve());
  });
  written.catch(() => {}); // awaited below unless the data fails first
  let count = 0;
  for await (const chunk of input.data) {
    signal.throwIfAborted();
    count += chunk.length;
    if (count > input.size) throw new Error(`volume data is longer than its size ${input.size}`);
    if (!entry.write(chunk)) await once(entry as unknown as NodeJS.EventEmitter, 'drain', { signal });
  }
  if (count !== input.size) throw new Error(`volume data ended after ${count} of ${input.size} bytes`);
  (entry as unknown as { end(): void }).end();
  await written;
  const meta = Buffer.from(JSON.stringify(input.meta));
  pack.entry({ name: names.meta, size: meta.length, mode: 0o600, mtime, type: 'file' }, meta);
  pack.finalize();
}

/**
 * Write the archive in one streaming pass into `<exportDir>/temp/<name>.part`, hashing the bytes on the
 * way out; then fsync, rename into the export directory, and write `<name>.sha256` the same way.
 * On any failure the temp file is removed and nothing appears in the export directory.
 */
export async function writeArchive(input: ArchiveInput): Promise<ArchiveResult> {
  const temp = tempPathFor(input.exportDir, input.name);
  const finalPath = join(input.exportDir, input.name);
  const hash = createHash('sha256');
  const pack = tar.pack();
  const mode = input.fileMode ?? PRIVATE_FILE_MODE;
  const fh = await openNewFile(temp, mode);
  let fhOpen = true;
  // stops the producer when the consumer fails (e.g. ENOSPC) and vice versa
  const local = new AbortController();
  const stop = (err: unknown) => { if (!local.signal.aborted) local.abort(err); pack.destroy(err as Error); };
  const onAbort = () => stop(input.signal.reason ?? new Error('aborted'));
  input.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const producer = fillPack(pack, input, local.signal).catch((err: unknown) => { stop(err); throw err; });
    const consumer = (async () => {
      for await (const out of input.compress(pack as AsyncIterable<Buffer>, input.signal)) {
        hash.update(out);
        let off = 0;
        while (off < out.length) off += (await fh.write(out, off, out.length - off)).bytesWritten;
      }
    })().catch((err: unknown) => { stop(err); throw err; });
    const [p, c] = await Promise.allSettled([producer, consumer]);
    // the first failure is the real reason; the other side then only saw the stop
    if (p.status === 'rejected' || c.status === 'rejected') throw local.signal.reason;
    input.signal.throwIfAborted();
    await fh.sync();
    fhOpen = false;
    await fh.close();
    await publish(temp, finalPath);
  } catch (err) {
    if (fhOpen) await fh.close().catch(() => {});
    await rm(temp, { force: true });
    throw input.signal.aborted ? (input.signal.reason ?? err) : err;
  } finally {
    input.signal.removeEventListener('abort', onAbort);
  }
  const sha256 = hash.digest('hex');
  try {
    await writeFileAtomic(input.exportDir, `${input.name}.sha256`, sha256Line(sha256, input.name), mode);
  } catch (err) {
    // a failed job leaves no archive behind, even a complete one
    await rm(finalPath, { force: true });
    throw err;
  }
  return { path: finalPath, sha256 };
}
