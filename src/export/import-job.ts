import { open, type FileHandle } from 'node:fs/promises';
import { failureOf, jobFailure } from '../errors.js';
import type { Job } from '../state/types.js';
import { resolveArchivePath } from './archive-path.js';
import { readSha256File, sha256OfFile } from './archive/checksum.js';
import { readArchive, type ArchiveExpectations } from './archive/reader.js';
import { GiB } from '../constants.js';
import type { WriteSink } from './backends/types.js';
import type { JobContext } from './context.js';
import { meter } from './throttle.js';
import { isHole, type Piece } from './zero.js';

/**
 * Import an archive into a volume. Nothing is written before the archive is known good:
 * - with a `<name>.sha256` beside it, the archive's hash must match (a few seconds per GB); the archive
 *   is then intact, so one decompress-and-write pass follows (the member names, which carry the volume
 *   id, and the image size are checked before the first byte is written; the meta, which our own
 *   archives store after the image, is checked when it is reached, failing the import as `error`);
 * - without one, by default (engine.verifyBeforeImport) a full pass first decompresses everything and
 *   checks gzip's CRC, the tar structure, the meta and the size; with the setting off, the single pass
 *   behaves as with a checksum.
 * Our own gzip archives carry an index (archive/member.ts): both passes then skip the all-zero members
 * (checked against the canonical zero member, written as holes) and inflate the others on all cores,
 * each checked (CRC-32, size, where the index says it ends) before its bytes are handed on.
 */
export async function runImport(job: Job, ctx: JobContext, signal: AbortSignal): Promise<void> {
  const { exportDir } = ctx.config;
  const fileName = job.params.fileName;
  if (!fileName) throw new Error('job has no file name');
  const path = await resolveArchivePath(exportDir, fileName);

  // one handle for every pass: the bytes checked are the bytes written, even if the name is replaced meanwhile
  const file = await open(path, 'r');
  try {
    await importFrom(file, path, job, ctx, signal);
  } finally {
    await file.close();
  }
}

async function importFrom(file: FileHandle, path: string, job: Job, ctx: JobContext, signal: AbortSignal): Promise<void> {
  const { engine } = ctx.config;
  const fileName = job.params.fileName!;
  const expect: ArchiveExpectations = { volumeId: job.params.volumeId, maxImageBytes: job.params.sizeGiB * GiB };
  const recorded = await readSha256File(`${path}.sha256`);
  if (recorded !== undefined && (await sha256OfFile(file, signal, ctx.touch)) !== recorded) {
    throw jobFailure('archiveInvalid', { reason: `archive ${fileName} does not match its checksum file` });
  }
  const verify = recorded === undefined && engine.verifyBeforeImport;
  const passes = verify ? 2 : 1;
  ctx.progress(0, expect.maxImageBytes * passes);
  const counted = (data: AsyncIterable<Piece>, base: number, writing: boolean) =>
    meter(data, { bytesPerSec: engine.bandwidthBytesPerSec, signal, onBytes: (n, d) => {
      ctx.touch(); if (writing) ctx.moved(d); ctx.progress(base + n);
    } });

  if (verify) {
    await readArchive(file, expect, {
      async onVol(data) { for await (const _ of counted(data, 0, false)) { /* reading is the check */ } },
    }, signal).catch((err: unknown) => { throw signal.aborted ? err : failureOf(err, 'archiveInvalid'); });
  }

  const backend = ctx.backend;
  const ref = { volumeId: job.params.volumeId, sizeBytes: expect.maxImageBytes };
  let sink: WriteSink | undefined;
  try {
    await readArchive(file, expect, {
      async onVol(data, size) {
        sink = await backend.openWrite(ref, size, signal);
        for await (const piece of counted(data, verify ? expect.maxImageBytes : 0, true)) {
          if (isHole(piece)) await sink.zeros(piece.hole);
          else await sink.write(piece);
        }
        await sink.finish();
      },
    }, signal);
  } finally {
    await sink?.close();
  }
}
