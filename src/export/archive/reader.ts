import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { jobFailure } from '../../errors.js';
import { META_VERSION } from '../meta.js';
import { spawnArgv, type Spawned } from '../backends/process.js';
import type { Piece } from '../zero.js';
import { detectFormat } from './detect.js';
import { indexedPieces, isIndexedArchive } from './indexed-reader.js';
import { tarEntries, type PieceEntry } from './tar-pieces.js';

/** The meta member is a small JSON document; anything bigger is not one of ours. */
const MAX_META_BYTES = 16 * 1024 * 1024;

export interface ArchiveExpectations {
  /**
   * The destination volume: member names and the meta's id must name it. Absent (an offline verify of an
   * archive whose name says nothing): the first member's name sets it, and the rest must agree.
   */
  volumeId?: string;
  /** The image must not be larger than the volume. */
  maxImageBytes: number;
}

export interface ArchiveVisitor {
  /** Called when the meta member has been read and checked. */
  onMeta?(meta: Record<string, unknown>): void;
  /** Called with the `.vol` member's bytes (holes as lengths); must consume them all (or throw). */
  onVol(data: AsyncIterable<Piece>, size: number): Promise<void>;
}

export interface ArchiveSummary {
  /** The volume the members name. */
  volumeId: string;
  meta: Record<string, unknown>;
  volSize: number;
  /** Whether the meta member came before the `.vol` member. */
  metaFirst: boolean;
}

export function mismatchReason(found: string, target: string): string {
  return `Volume ID being imported (${found}) does not match destination volume ID (${target})`;
}

/** Check a meta document against the destination; returns it parsed. */
export function checkMeta(text: string, volumeId: string): Record<string, unknown> {
  let meta: unknown;
  try { meta = JSON.parse(text); } catch { throw new Error('volume meta is not valid JSON'); }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw new Error('volume meta is not a JSON object');
  const doc = meta as Record<string, unknown>;
  if (doc.version !== META_VERSION) throw new Error(`unsupported volume meta version ${JSON.stringify(doc.version)}`);
  const base = doc['volume-base-metadata'];
  const id = typeof base === 'object' && base !== null ? (base as Record<string, unknown>).id : undefined;
  if (id !== volumeId) throw jobFailure('idMismatch', { reason: mismatchReason(typeof id === 'string' ? id : String(id), volumeId) });
  return doc;
}

/** Which member a header is, or why it is refused (wrong type, unexpected or escaping name, other volume). */
function classify(header: { name: string; type?: string | null }, volumeId: string | undefined): { kind: 'vol' | 'meta'; volumeId: string } {
  const name = header.name.startsWith('./') ? header.name.slice(2) : header.name;
  const m = /^volume-([^/\\]+)\.(vol|meta)$/.exec(name);
  if (!m || name.includes('..')) throw new Error(`unexpected member ${JSON.stringify(header.name).slice(0, 80)} in archive`);
  if (header.type !== 'file' && header.type !== 'contiguous-file') {
    throw new Error(`archive member ${name} is a ${header.type}, not a file`);
  }
  if (volumeId !== undefined && m[1] !== volumeId) throw jobFailure('idMismatch', { reason: mismatchReason(m[1]!, volumeId) });
  return { kind: m[2] as 'vol' | 'meta', volumeId: m[1]! };
}

async function readSmall(entry: AsyncIterable<Piece>, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of entry) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.alloc(chunk.hole);
    n += buf.length;
    if (n > limit) throw new Error('volume meta member is too large');
    parts.push(buf);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** The archive's bytes from offset 0, through the already open handle (each pass reads the same file). */
export function readFrom(file: FileHandle, signal: AbortSignal): Readable {
  return createReadStream('', { fd: file, start: 0, autoClose: false, highWaterMark: 1024 * 1024, signal });
}

/** The decompressed tar stream of an archive, by its magic bytes. */
async function openTarStream(file: FileHandle, signal: AbortSignal): Promise<{ stream: Readable; helper?: Spawned }> {
  const format = await detectFormat(file);
  const raw = readFrom(file, signal);
  if (format === 'zstd') {
    const helper = spawnArgv(['zstd', '-d', '-q', '-c'], { stdin: true, stdout: true }, signal);
    raw.on('error', () => helper.kill());
    raw.pipe(helper.child.stdin!);
    return { stream: helper.stdout!, helper };
  }
  if (format === 'tar') return { stream: raw };
  const gunzip = createGunzip({ chunkSize: 1024 * 1024 });
  raw.on('error', (err) => gunzip.destroy(err));
  return { stream: raw.pipe(gunzip) };
}

/** Check the members (only the two expected regular files, each once), the meta and the image size. */
async function consumeEntries(entries: AsyncIterable<PieceEntry | { header: tar.Header; data: AsyncIterable<Piece> }>,
  expect: ArchiveExpectations, visitor: ArchiveVisitor): Promise<ArchiveSummary> {
  let meta: Record<string, unknown> | undefined;
  let volSize: number | undefined;
  let metaFirst = false;
  let volumeId = expect.volumeId;
  for await (const entry of entries) {
    const member = classify(entry.header, volumeId);
    const kind = member.kind;
    volumeId = member.volumeId;
    const size = entry.header.size ?? 0;
    if (kind === 'meta') {
      if (meta) throw new Error('archive holds the meta member twice');
      meta = checkMeta(await readSmall(entry.data, MAX_META_BYTES), volumeId);
      visitor.onMeta?.(meta);
    } else {
      if (volSize !== undefined) throw new Error('archive holds the volume member twice');
      if (size > expect.maxImageBytes) {
        throw jobFailure('volumeTooSmall', { reason: `image (${size} bytes) is larger than the volume (${expect.maxImageBytes} bytes)` });
      }
      volSize = size;
      metaFirst = meta !== undefined;
      await visitor.onVol(entry.data, size);
    }
  }
  if (volSize === undefined) throw new Error('archive has no volume member');
  if (!meta) throw new Error('archive has no meta member');
  return { volumeId: volumeId!, meta, volSize, metaFirst };
}

/**
 * Read an archive once from start to end, checking its structure (only the two expected regular-file
 * members, each once), the meta (version, volume id) and the image size, and handing the `.vol`
 * bytes to the visitor. Any corruption (gzip CRC, truncation, bad tar header, a lying index) rejects.
 * Our own indexed gzip archives are read member by member (holes skipped, inflation on all cores);
 * any other archive (the original's `tar -czf`, zstd, plain tar) as one stream.
 */
export async function readArchive(file: FileHandle, expect: ArchiveExpectations, visitor: ArchiveVisitor,
  signal: AbortSignal): Promise<ArchiveSummary> {
  if ((await detectFormat(file)) === 'gzip' && (await isIndexedArchive(file))) {
    return consumeEntries(tarEntries(indexedPieces(file, signal)), expect, visitor);
  }
  return readStreamed(file, expect, visitor, signal);
}

async function readStreamed(file: FileHandle, expect: ArchiveExpectations, visitor: ArchiveVisitor,
  signal: AbortSignal): Promise<ArchiveSummary> {
  const { stream, helper } = await openTarStream(file, signal);
  const extract = tar.extract();
  const local = new AbortController();
  const stop = (err: unknown) => {
    if (!local.signal.aborted) local.abort(err);
    stream.destroy();
    extract.destroy(err as Error);
    helper?.kill();
  };
  const onAbort = () => stop(signal.reason ?? new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });

  const feed = (async () => {
    for await (const chunk of stream) {
      if (!extract.write(chunk as Buffer)) await once(extract as unknown as NodeJS.EventEmitter, 'drain', { signal: local.signal });
    }
    if (helper) await helper.exited;
    (extract as unknown as { end(): void }).end();
  })().catch((err: unknown) => { stop(err); throw err; });

  const entries = (async function* () {
    for await (const entry of extract) yield { header: entry.header, data: entry as unknown as AsyncIterable<Buffer> };
  })();
  const consume = consumeEntries(entries, expect, visitor).catch((err: unknown) => { stop(err); throw err; });

  try {
    const [f, c] = await Promise.allSettled([feed, consume]);
    if (f.status === 'rejected' || c.status === 'rejected') throw local.signal.reason;
    return c.value;
  } finally {
    signal.removeEventListener('abort', onAbort);
    helper?.kill();
  }
}
