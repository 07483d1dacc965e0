import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildExportMeta, memberNames } from '../../src/export/meta.js';
import { BenchContext, HOST } from '../lib/context.js';
import { volumeObject } from '../lib/fixtures.js';
import { engineMethod, shellMethod, shellQuote as q, type EngineMeasured, type Measured } from '../lib/methods.js';
import { run } from '../lib/procs.js';
import { fmt, judge, verdict, type SectionResult, type Target } from '../lib/report.js';
import { writeHalfRandomVolume } from '../lib/volume.js';

const RSS_LIMIT_MB = 200;

/** GNU tar must list what the engine wrote, with the volume member at full size. */
async function checkArchive(file: string, volumeId: string, volumeBytes: number): Promise<string | undefined> {
  const { stdout } = await run('tar', ['-tvzf', file], { allowFail: true });
  const names = memberNames(volumeId);
  const vol = stdout.split('\n').find((l) => l.endsWith(` ${names.vol}`));
  if (!vol || !stdout.includes(names.meta)) return `GNU tar does not list ${names.vol} and ${names.meta}`;
  const size = Number(vol.trim().split(/\s+/)[2]);
  return size === volumeBytes ? undefined : `${names.vol} is ${size} bytes in the archive, expected ${volumeBytes}`;
}

/**
 * Point 3, export: the engine against what an operator would run instead, on the same half-random volume
 * (in the page cache, as in the spec's anchors). Every way ends with its output synced to disk (the engine
 * fsyncs itself), so all pay the same write-back.
 */
export async function exportSection(ctx: BenchContext): Promise<SectionResult> {
  const s = ctx.settings;
  const bytes = Math.round(s.volumeGiB * 2 ** 30);
  const id = randomUUID();
  const names = memberNames(id);
  const volDir = ctx.dir('export/volumes');
  const volumeFile = join(volDir, `volume-${id}`);
  await writeHalfRandomVolume(volumeFile, bytes);
  await run('sh', ['-c', `cat ${q(volumeFile)} > /dev/null`]); // into the page cache
  const meta = JSON.stringify(buildExportMeta(volumeObject(id, Math.ceil(s.volumeGiB), HOST) as never));
  // tar straight from the file: a stage dir where the member name links to the volume (tar -h follows it)
  const stage = ctx.dir('export/stage');
  symlinkSync(volumeFile, join(stage, names.vol));
  writeFileSync(join(stage, names.meta), meta);
  const raw = ctx.dir('export/raw');
  const out = ctx.dir('export/out');
  const origExports = ctx.dir('export/orig-exports');
  const origArchive = join(origExports, `volume-${id}-20260101-000000.tgz`);
  const o = (n: string) => join(out, n);
  const rows: Measured[] = [];
  const keep = async (m: Promise<Measured>, cleanup?: string) => {
    rows.push(await m);
    if (cleanup) rmSync(cleanup, { force: true });
  };

  await keep(shellMethod(ctx, "original: dd O_DIRECT to raw copy, then tar -czf", 6,
    `dd if=${q(volumeFile)} of=${q(join(raw, names.vol))} bs=1M oflag=direct status=none; ` +
    `printf '%s' ${q(meta)} > ${q(join(raw, names.meta))}; ` +
    `tar -czf ${q(origArchive)} -C ${q(raw)} ${names.vol} ${names.meta}; sync ${q(origArchive)}; rm -f ${q(join(raw, names.vol))}`, origArchive));
  await keep(shellMethod(ctx, 'tar -czf straight from the volume', 6,
    `tar -czhf ${q(o('a.tgz'))} -C ${q(stage)} ${names.vol} ${names.meta}; sync ${q(o('a.tgz'))}`, o('a.tgz')), o('a.tgz'));
  await keep(shellMethod(ctx, 'gzip -1 -c', 1, `gzip -1 -c ${q(volumeFile)} > ${q(o('a.gz'))}; sync ${q(o('a.gz'))}`, o('a.gz')), o('a.gz'));
  await keep(shellMethod(ctx, 'cp + sync (disk write limit)', null, `cp ${q(volumeFile)} ${q(o('a.raw'))}; sync ${q(o('a.raw'))}`, o('a.raw')), o('a.raw'));
  await keep(shellMethod(ctx, 'zstd -T0 -1 (both cores, reference)', null,
    `zstd -q -T0 -1 -c ${q(volumeFile)} > ${q(o('a.zst'))}; sync ${q(o('a.zst'))}`, o('a.zst')), o('a.zst'));

  const engineRun = async (level: number) => {
    const exportDir = ctx.dir(`export/engine${level}`);
    const m = await engineMethod(ctx, `engine (stx-cinder-proxy), gzip ${level}`, {
      mode: 'export', dataDir: ctx.dir(`export/engine${level}-data`), exportDir, volumePath: join(volDir, 'volume-{id}'),
      volumeId: id, volumeBytes: bytes, gzipLevel: level, timeoutMs: 3_600_000,
    });
    if (m.ok && m.result.fileName) {
      const bad = await checkArchive(join(exportDir, m.result.fileName), id, bytes);
      if (bad) { m.ok = false; m.detail = bad; }
    }
    rows.push(m);
    return m.ok && m.result.fileName ? join(exportDir, m.result.fileName) : undefined;
  };
  const engineArchive = await engineRun(1);
  const engine6 = s.engineLevel6 ? await engineRun(6) : undefined;
  if (engine6) rmSync(engine6, { force: true });
  ctx.archives = { volumeId: id, volumeFile, volumeBytes: bytes, exportDir: ctx.dir('export/engine1'),
    ...(engineArchive ? { engine: engineArchive } : {}), original: origArchive,
    cpSyncSec: rows.find((r) => r.method.startsWith('cp + sync'))?.wallSec };

  const original = rows[0]!;
  const mbps = (m: Measured) => bytes / 1e6 / m.wallSec;
  const e1 = rows.find((r) => r.method.endsWith('gzip 1') && r.method.startsWith('engine'));
  const e6 = rows.find((r) => r.method.endsWith('gzip 6') && r.method.startsWith('engine'));
  const targets: Target[] = [];
  const verdicts = new Map<Measured, string[]>();
  const add = (m: Measured, t: Target, short: string) => {
    targets.push(t);
    verdicts.set(m, [...(verdicts.get(m) ?? []), `${short} ${verdict(t.met)}`]);
  };
  if (e6) {
    add(e6, judge('export speed vs original, both gzip 6', e6.ok ? original.wallSec / e6.wallSec : null, 'x', '>= 2x', (x) => x >= 2,
      `${fmt(mbps(e6))} vs ${fmt(mbps(original))} MB/s`), '>=2x:');
  }
  if (e1) {
    add(e1, judge(`export speed vs original${e6 ? ' (engine at its default gzip 1, original at 6)' : ', levels differ: engine 1, original 6'}`,
      e1.ok ? original.wallSec / e1.wallSec : null, 'x', '>= 2x', (x) => x >= 2, `${fmt(mbps(e1))} vs ${fmt(mbps(original))} MB/s`), '>=2x:');
  }
  const cp = rows.find((r) => r.method.startsWith('cp + sync'));
  if (e1 && cp) {
    add(e1, judge('engine export (gzip 1) vs `cp` + `sync` of the same file (issue 11)', e1.ok ? e1.wallSec / cp.wallSec : null, 'x', '<= 1.25x',
      (x) => x <= 1.25, `${fmt(e1.wallSec, 2)} s vs ${fmt(cp.wallSec, 2)} s`), '<=1.25x cp:');
  }
  for (const e of [e1, e6]) {
    if (e) add(e, judge(`engine peak RSS, ${e.method.replace('engine (stx-cinder-proxy), ', '')} export of ${fmt(bytes / 2 ** 30, 2)} GiB`, e.peakRssMB, 'MB', `< ${RSS_LIMIT_MB} MB`, (x) => x < RSS_LIMIT_MB), 'RSS:');
  }
  return {
    name: 'export',
    tables: [{
      title: `3. Export of a ${fmt(bytes / 2 ** 30, 2)} GiB volume (first half random, second half zeros), page cache warm`,
      header: ['method', 'gzip', 'wall s', 'MB/s', 'vs original', 'peak RSS MB', 'CPU s', 'output MB', 'ok', 'targets'],
      rows: rows.map((r) => [r.method, r.gzipLevel ?? '-', fmt(r.wallSec, 2), fmt(mbps(r)), `${fmt(original.wallSec / r.wallSec, 2)}x`,
        fmt(r.peakRssMB), fmt(r.cpuSec, 1), fmt((r.outBytes ?? 0) / 1e6), r.ok ? 'yes' : `NO: ${r.detail ?? ''}`, (verdicts.get(r) ?? []).join(', ')]),
      notes: [...rows.flatMap((r) => ('result' in r ? [`${r.method}: peak JS heap ${fmt((r as EngineMeasured).result.memory.heapTotalMB)} MB, Buffers ${fmt((r as EngineMeasured).result.memory.arrayBuffersMB)} MB (sampled)`] : [])),
        'wall = whole process (the engine\'s includes node start-up; its job time alone is in the JSON); all outputs synced',
        'engine archives checked with `tar -tvzf` (GNU tar lists both members, the volume at full size)'],
    }],
    targets,
    data: { volumeBytes: bytes, rows },
  };
}
