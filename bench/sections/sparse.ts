import { randomUUID } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { GiB } from '../../src/constants.js';
import type { BenchContext } from '../lib/context.js';
import { engineMethod, type Measured } from '../lib/methods.js';
import { run } from '../lib/procs.js';
import { fmt, judge, verdict, type SectionResult, type Target } from '../lib/report.js';
import { writeRunsVolume, writeSparseVolume } from '../lib/volume.js';

const TiB = 1024 * GiB;
const MiB = GiB / 1024;
/** Ceph RBD's backup of a 1 TiB volume holding 20 GiB (Launchpad bug 1918119). */
const CEPH_SEC = 8 * 60 + 42;
/** The budget: the same data as a dense volume, plus this much per TiB of holes. */
const SEC_PER_TIB_OF_HOLES = 10;

interface Case { label: string; bytes: number; runs: number; runBytes: number; target?: number }

/**
 * Issue 11: a large, mostly empty volume exports and imports in the time of its data. Each case is a
 * sparse volume and a dense one holding exactly the same runs, exported and imported by the engine
 * side by side; the imported volume is compared with the source by `qemu-img compare` (sparse-aware).
 */
export async function sparseSection(ctx: BenchContext): Promise<SectionResult> {
  const s = ctx.settings;
  const cases: Case[] = [
    { label: `${fmt(s.sparseVolumeGiB, 0)} GiB holding ${s.sparseRuns} x ${s.sparseRunMiB} MiB`, bytes: s.sparseVolumeGiB * GiB,
      runs: s.sparseRuns, runBytes: s.sparseRunMiB * MiB, target: 10 },
    ...(s.sparseHuge ? [{ label: '1 TiB holding 20 GiB (20 x 1 GiB)', bytes: TiB, runs: 20, runBytes: GiB }] : []),
  ];
  const rows: Array<{ c: Case; kind: 'sparse' | 'dense'; exp: Measured; imp: Measured; archiveBytes: number }> = [];
  const targets: Target[] = [];
  for (const [i, c] of cases.entries()) {
    const volDir = ctx.dir(`sparse/${i}/volumes`);
    // one layout at a time, each removed after its run: the 1 TiB case then needs ~3 x 20 GiB, not 4 x
    for (const kind of ['dense', 'sparse'] as const) {
      const vid = randomUUID();
      const file = join(volDir, `volume-${vid}`);
      const bytes = kind === 'dense' ? c.runs * c.runBytes : c.bytes;
      await writeRunsVolume(file, c.bytes, c.runs, c.runBytes, kind === 'dense');
      const exportDir = ctx.dir(`sparse/${i}/${kind}-exports`);
      const common = { dataDir: ctx.dir(`sparse/${i}/${kind}-data`), exportDir, volumeId: vid, volumeBytes: bytes, gzipLevel: 1, timeoutMs: 3_600_000 };
      const exp = await engineMethod(ctx, `engine export, ${kind}`, { ...common, mode: 'export', volumePath: join(volDir, 'volume-{id}') });
      const archive = exp.ok && exp.result.fileName ? join(exportDir, exp.result.fileName) : undefined;
      const targetDir = ctx.dir(`sparse/${i}/${kind}-target`);
      const target = join(targetDir, `volume-${vid}`);
      await writeSparseVolume(target, bytes);
      const imp = archive
        ? await engineMethod(ctx, `engine import, ${kind}`, { ...common, mode: 'import', volumePath: join(targetDir, 'volume-{id}'), fileName: exp.result.fileName! })
        : { ...exp, method: `engine import, ${kind}`, ok: false, detail: 'no archive' };
      if (imp.ok) {
        const same = await run('qemu-img', ['compare', '-q', '-f', 'raw', '-F', 'raw', file, target], { allowFail: true });
        if (same.code !== 0) { imp.ok = false; imp.detail = 'imported volume differs from the source'; }
        const allocated = statSync(target).blocks * 512;
        if (imp.ok && kind === 'sparse' && allocated > c.runs * c.runBytes * 1.1 + 64 * MiB) { imp.ok = false; imp.detail = `holes not kept: ${allocated} bytes allocated`; }
      }
      rows.push({ c, kind, exp, imp, archiveBytes: archive ? statSync(archive).size : 0 });
      if (archive) rmSync(archive, { force: true });
      rmSync(target, { force: true });
      rmSync(file, { force: true });
    }

    const [dense, sparse] = rows.slice(-2);
    const holesTiB = (c.bytes - c.runs * c.runBytes) / TiB;
    for (const dir of ['exp', 'imp'] as const) {
      const way = dir === 'exp' ? 'export' : 'import';
      const sec = sparse![dir].ok ? sparse![dir].wallSec : null;
      const budget = dense![dir].wallSec + SEC_PER_TIB_OF_HOLES * holesTiB;
      targets.push(judge(`sparse ${way}, ${c.label}: <= dense + ${SEC_PER_TIB_OF_HOLES} s/TiB of holes`, sec, 's', `<= ${fmt(budget, 1)} s`, (x) => x <= budget,
        `dense ${fmt(dense![dir].wallSec, 2)} s`));
      if (c.target !== undefined) targets.push(judge(`sparse ${way}, ${c.label}`, sec, 's', `<= ${c.target} s`, (x) => x <= c.target!));
      if (c.bytes === TiB) targets.push(judge(`sparse ${way}, 1 TiB holding 20 GiB, vs Ceph RBD's 8 min 42 s`, sec, 's', `< ${CEPH_SEC} s`, (x) => x < CEPH_SEC));
      targets.push(judge(`engine peak RSS, sparse ${way}, ${c.label}`, sparse![dir].peakRssMB, 'MB', '< 200 MB', (x) => x < 200));
    }
  }
  return {
    name: 'sparse',
    tables: [{
      title: 'Sparse volumes (issue 11): the same data as a sparse and as a dense volume, engine export and import (gzip 1)',
      header: ['volume', 'layout', 'export s', 'import s', 'archive MB', 'export RSS MB', 'import RSS MB', 'ok', 'vs Ceph 8 min 42 s'],
      rows: rows.map((r) => [r.c.label, r.kind, fmt(r.exp.wallSec, 2), fmt(r.imp.wallSec, 2), fmt(r.archiveBytes / 1e6),
        fmt(r.exp.peakRssMB), fmt(r.imp.peakRssMB), r.exp.ok && r.imp.ok ? 'yes' : `NO: ${r.exp.detail ?? r.imp.detail ?? ''}`,
        r.c.bytes === TiB && r.kind === 'sparse' ? `${fmt(CEPH_SEC / r.exp.wallSec, 1)}x faster (export)` : '']),
      notes: [
        'dense = the same amount of random data in runs back to back, no holes (what the sparse volume costs at best); wall = whole engine process (includes node start-up)',
        'import writes into a fresh sparse file; checked with `qemu-img compare` and, for sparse, allocated blocks ~ the data',
        ...targets.filter((t) => t.name.includes('holes')).map((t) => `${t.name}: ${t.value === null ? '-' : fmt(t.value, 2)} s, ${verdict(t.met)}`),
        ...(s.sparseHuge ? [] : ['the 1 TiB case is off (BENCH_SPARSE_HUGE=1 to run it; needs ~65 GB free and a quiet machine)']),
      ],
    }],
    targets,
    data: { rows: rows.map((r) => ({ volume: r.c.label, kind: r.kind, export: r.exp, import: r.imp, archiveBytes: r.archiveBytes })) },
  };
}
