import { stat } from 'node:fs/promises';
import cliProgress from 'cli-progress';
import { verifyArchive, type VerifyPhase, type VerifyReport } from '../export/archive/verify.js';
import type { Output } from './jobs.js';

/** Archives above this size get a progress bar (on a terminal). */
const BAR_FROM_BYTES = 256 * 1024 * 1024;

function describe(r: VerifyReport): string {
  if (!r.ok) return `FAILED  ${r.file}: ${r.error}\n`;
  const sha = r.sha256Checked ? 'checksum file matches' : 'no checksum file';
  return `OK      ${r.file}: volume ${r.volumeId}, image ${r.imageBytes} bytes, ${r.format}, ${sha}\n`;
}

async function verifyOne(file: string, out: Output, signal: AbortSignal): Promise<VerifyReport> {
  const size = await stat(file).then((s) => s.size, () => 0);
  if (out.isTTY !== true || size < BAR_FROM_BYTES) return verifyArchive(file, { signal });
  const bar = new cliProgress.SingleBar({
    stream: out as NodeJS.WritableStream, hideCursor: true, clearOnComplete: true, fps: 5,
    format: '{phase} |{bar}| {percentage}% ETA {eta_formatted} {file}',
  }, cliProgress.Presets.shades_classic);
  let phase: VerifyPhase | undefined;
  try {
    return await verifyArchive(file, {
      signal,
      onProgress(p, done, total) {
        if (p !== phase) { phase = p; bar.start(total, 0, { phase: p.padEnd(8), file }); }
        bar.update(done);
      },
    });
  } finally {
    bar.stop();
  }
}

/** `verify FILE...`: offline, one report per file; 0 only when every archive holds. */
export async function verifyCommand(files: string[], opts: { json: boolean; out: Output; signal: AbortSignal }): Promise<number> {
  const reports: VerifyReport[] = [];
  for (const file of files) {
    const r = await verifyOne(file, opts.out, opts.signal);
    reports.push(r);
    if (!opts.json) opts.out.write(describe(r));
  }
  if (opts.json) opts.out.write(`${JSON.stringify(reports, null, 2)}\n`);
  return reports.every((r) => r.ok) ? 0 : 1;
}
