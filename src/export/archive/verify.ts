import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArchiveName } from '../archive-name.js';
import { GiB } from '../../constants.js';
import { readSha256File, sha256OfFile } from './checksum.js';
import { detectFormat } from './detect.js';
import { readArchive } from './reader.js';
import { pieceLength } from '../zero.js';

export type VerifyPhase = 'checksum' | 'contents';

export interface VerifyOptions {
  signal?: AbortSignal;
  /** Bytes checked so far in the current phase, of `total`. */
  onProgress?(phase: VerifyPhase, done: number, total: number): void;
}

export interface VerifyReport {
  file: string;
  ok: boolean;
  /** Why it failed (the first check that did not hold). */
  error?: string;
  format?: string;
  volumeId?: string;
  imageBytes?: number;
  /** Whether a `.sha256` was found (and matched, when ok). */
  sha256Checked: boolean;
}

/**
 * Check an archive offline, with the import's own reader: the `.sha256` beside it if there is one,
 * then one pass through the whole compressed stream (gzip CRCs and lengths, zstd's checksums), the
 * tar structure (exactly the `volume-<uuid>.vol` and `.meta` regular files, each once), the meta
 * (version, volume id matching the members and the file name) and the image size (at most the
 * volume size the meta records).
 */
export async function verifyArchive(path: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const signal = opts.signal ?? new AbortController().signal;
  const report: VerifyReport = { file: path, ok: false, sha256Checked: false };
  try {
    const file = await open(path, 'r');
    try {
      report.format = await detectFormat(file);
      const recorded = await readSha256File(`${path}.sha256`);
      if (recorded !== undefined) {
        const total = (await stat(path)).size;
        let done = 0;
        const actual = await sha256OfFile(file, signal, (n) => { done += n; opts.onProgress?.('checksum', done, total); });
        if (actual !== recorded) throw new Error(`does not match its checksum file ${basename(path)}.sha256`);
        report.sha256Checked = true;
      }
      const named = parseArchiveName(basename(path));
      const summary = await readArchive(file, { volumeId: named?.volumeId, maxImageBytes: Number.MAX_SAFE_INTEGER }, {
        async onVol(data, size) {
          let done = 0;
          for await (const piece of data) { done += pieceLength(piece); opts.onProgress?.('contents', done, size); }
        },
      }, signal);
      report.volumeId = summary.volumeId;
      report.imageBytes = summary.volSize;
      const base = summary.meta['volume-base-metadata'] as Record<string, unknown>;
      if (typeof base.size === 'number' && summary.volSize > base.size * GiB) {
        throw new Error(`image (${summary.volSize} bytes) is larger than the volume the meta records (${base.size} GiB)`);
      }
    } finally {
      await file.close();
    }
    report.ok = true;
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
  }
  return report;
}
