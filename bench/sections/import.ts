import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { BenchContext } from '../lib/context.js';
import { engineMethod, shellMethod, shellQuote as q, type Measured } from '../lib/methods.js';
import { memberNames } from '../../src/export/meta.js';
import { run } from '../lib/procs.js';
import { fmt, judge, verdict, type SectionResult, type Target } from '../lib/report.js';
import { writeSparseVolume } from '../lib/volume.js';

/**
 * Point 3, import: the archives of the export section written back into a volume of the same id (a fresh
 * sparse file each time), the original's way (`tar -xzf -O | dd oflag=direct`, no check) against the engine
 * (its own archive, checked through the .sha256; and the original's archive, which has none, so the engine
 * reads it whole before writing). Each result is compared byte for byte with the source volume.
 */
export async function importSection(ctx: BenchContext): Promise<SectionResult> {
  const a = ctx.archives;
  if (!a) throw new Error('the import section needs the export section (BENCH_SECTIONS must include export)');
  const volDir = ctx.dir('import/volumes');
  const target = join(volDir, `volume-${a.volumeId}`);
  const names = memberNames(a.volumeId);
  const rows: Measured[] = [];
  const fresh = () => writeSparseVolume(target, a.volumeBytes);
  const verify = async (m: Measured) => {
    if (m.ok) {
      const same = (await run('cmp', ['-s', a.volumeFile, target], { allowFail: true })).code === 0;
      if (!same) { m.ok = false; m.detail = 'volume differs from the source after import'; }
    }
    rows.push(m);
    rmSync(target, { force: true });
  };
  const engineImport = async (label: string, archive: string) => {
    await fresh();
    const exportDir = join(archive, '..');
    await verify(await engineMethod(ctx, label, {
      mode: 'import', dataDir: ctx.dir(`import/data-${rows.length}`), exportDir, volumePath: join(volDir, 'volume-{id}'),
      volumeId: a.volumeId, volumeBytes: a.volumeBytes, gzipLevel: 1, fileName: archive.slice(exportDir.length + 1), timeoutMs: 3_600_000,
    }));
  };

  if (a.original) {
    await fresh();
    await verify(await shellMethod(ctx, "original: tar -xzf -O | dd oflag=direct (original's archive, gzip 6)", 6,
      `tar -xzf ${q(a.original)} -O ${names.vol} | dd of=${q(target)} bs=1M iflag=fullblock oflag=direct conv=notrunc status=none`, null));
  }
  if (a.engine) await engineImport("engine, its own archive (gzip 1, .sha256 checked, then one pass)", a.engine);
  if (a.original) await engineImport("engine, original's archive (gzip 6, no .sha256: full check pass first)", a.original);

  const original = rows[0];
  const mbps = (m: Measured) => a.volumeBytes / 1e6 / m.wallSec;
  const targets: Target[] = rows.filter((r) => r.method.startsWith('engine')).map((r) =>
    judge(`engine peak RSS, import (${r.method.includes('own') ? 'own archive' : "original's archive"})`, r.peakRssMB, 'MB', '< 200 MB', (x) => x < 200));
  const own = rows.find((r) => r.method.includes('its own archive'));
  if (own && a.cpSyncSec) {
    targets.push(judge('engine import (own archive) vs `cp` + `sync` of the volume (issue 11)', own.ok ? own.wallSec / a.cpSyncSec : null, 'x', '<= 1.25x',
      (x) => x <= 1.25, `${fmt(own.wallSec, 2)} s vs ${fmt(a.cpSyncSec, 2)} s`));
  }
  return {
    name: 'import',
    tables: [{
      title: `3. Import of the same ${fmt(a.volumeBytes / 2 ** 30, 2)} GiB volume`,
      header: ['method', 'wall s', 'MB/s', 'vs original', 'peak RSS MB', 'CPU s', 'bytes equal', 'RSS < 200 MB'],
      rows: rows.map((r) => [r.method, fmt(r.wallSec, 2), fmt(mbps(r)), original ? `${fmt(original.wallSec / r.wallSec, 2)}x` : '-',
        fmt(r.peakRssMB), fmt(r.cpuSec, 1), r.ok ? 'yes' : `NO: ${r.detail ?? ''}`, r.method.startsWith('engine') ? verdict(r.peakRssMB < 200) : '']),
      notes: ['the original wrote without any check; the engine never writes a byte before the archive is proven intact'],
    }],
    targets,
    data: { volumeBytes: a.volumeBytes, rows },
  };
}
