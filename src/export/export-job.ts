import { stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { jobFailure, withoutDirectories } from '../errors.js';
import { ensureDir, PRIVATE_DIR_MODE } from '../file-modes.js';
import { archiveStamp } from '../state/timestamps.js';
import type { Job } from '../state/types.js';
import { EXTENSIONS } from './archive/compressors.js';
import { TEMP_DIR } from './archive/atomic.js';
import { writeArchive } from './archive/writer.js';
import { GiB } from '../constants.js';
import type { ReadSource } from './backends/types.js';
import type { JobContext } from './context.js';
import { meter } from './throttle.js';
import type { Piece } from './zero.js';

/** The export directory must exist and have room before anything is read. The reasons reach the tenant: no path. */
export async function checkExportDir(dir: string, minFreeBytes: number): Promise<void> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw jobFailure('exportDirUnusable', { reason: 'the export directory does not exist' });
  try {
    await ensureDir(join(dir, TEMP_DIR), PRIVATE_DIR_MODE);
  } catch (err) {
    throw jobFailure('exportDirUnusable', { reason: `the export directory is not usable: ${withoutDirectories(err as Error)}` });
  }
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  if (free < minFreeBytes) {
    throw jobFailure('noSpace', { reason: `not enough free space in the export directory (${free} bytes free, at least ${minFreeBytes} required)` });
  }
}

const exists = (p: string) => stat(p).then(() => true, () => false);

/** `volume-<id>-<YYYYMMDD-HHMMSS><ext>`; a later second when an archive of that second already exists. */
async function freeName(dir: string, volumeId: string, ext: string): Promise<string> {
  for (let t = Date.now(); ; t += 1000) {
    const name = `volume-${volumeId}-${archiveStamp(new Date(t))}${ext}`;
    if (!(await exists(join(dir, name))) && !(await exists(join(dir, `${name}.sha256`)))) return name;
  }
}

/** The source's bytes and holes, then its producer's verdict (a helper's exit status). */
async function* drain(source: ReadSource): AsyncGenerator<Piece> {
  for await (const chunk of source.pieces) yield chunk as Piece;
  await source.done;
}

/** Volume or snapshot export: read through the backend, write the archive atomically. Returns its name. */
export async function runExport(job: Job, ctx: JobContext, signal: AbortSignal): Promise<string> {
  const { exportDir, engine } = ctx.config;
  const meta = job.params.meta;
  if (!meta) throw new Error('job has no volume meta');
  await checkExportDir(exportDir, engine.minFreeBytes);
  const backend = ctx.backend;
  const ref = { volumeId: job.params.volumeId, snapshotId: job.params.snapshotId, sizeBytes: job.params.sizeGiB * GiB };
  const source = await backend.openRead(ref, signal);
  try {
    const name = await freeName(exportDir, job.params.volumeId, EXTENSIONS[engine.compression]);
    await ctx.store.setFileName(job.id, name);
    ctx.progress(0, source.size);
    const data = meter(drain(source), { bytesPerSec: engine.bandwidthBytesPerSec, signal, onBytes: (n, d) => { ctx.touch(); ctx.moved(d); ctx.progress(n); } });
    await writeArchive({ exportDir, name, volumeId: job.params.volumeId, meta, data, size: source.size,
      compress: ctx.compress, signal, fileMode: engine.fileMode, tempTag: ctx.tempTag, beforePublish: ctx.confirmLease });
    return name;
  } finally {
    source.close();
  }
}
