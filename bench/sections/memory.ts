import { join } from 'node:path';
import { BenchContext, PROJECT } from '../lib/context.js';
import { exportThroughApi, removeArchives } from '../lib/export-api.js';
import { PhaseMeter, rssKiB } from '../lib/procstat.js';
import { fmt, judge, verdict, type SectionResult, type Target } from '../lib/report.js';
import { writeSparseVolume } from '../lib/volume.js';

/**
 * Point 4: the proxy process' peak RSS while its engine exports a big sparse volume, started the way a
 * client does (the export action through the API, then polling backup_status), and under the load of
 * point 1 (measured there).
 */
export async function memory(ctx: BenchContext): Promise<SectionResult> {
  const s = ctx.settings;
  const proxy = await ctx.proxy();
  const id = ctx.sparseVolumeId;
  const bytes = Math.ceil(s.sparseGiB) * 2 ** 30;
  await writeSparseVolume(join(ctx.proxyVolumesDir, `volume-${id}`), bytes);
  const idleRssMB = (rssKiB(proxy.pid) * 1024) / 1e6;
  const meter = new PhaseMeter(proxy.pid, 50);
  const status = await exportThroughApi(proxy.url, PROJECT, id).catch((err: unknown) => { meter.stop(); throw err; });
  const m = meter.stop();
  const archiveBytes = removeArchives(join(ctx.tmp, 'proxy', 'exports'), id);
  const ok = status.startsWith('Export completed');
  const targets: Target[] = [
    judge(`proxy peak RSS exporting a ${s.sparseGiB} GiB sparse volume`, ok ? m.peakRssMB : null, 'MB', '< 200 MB', (x) => x < 200, ok ? undefined : status),
  ];
  if (ctx.proxyLoadPeakRssMB !== undefined) {
    targets.push(judge('proxy peak RSS under the pass-through load', ctx.proxyLoadPeakRssMB, 'MB', '< 200 MB', (x) => x < 200));
  }
  return {
    name: 'memory',
    tables: [{
      title: '4. Memory of the proxy process',
      header: ['phase', 'peak RSS MB', 'wall s', 'MB/s', 'CPU %', 'result', 'RSS < 200 MB'],
      rows: [
        ['idle, before the export', fmt(idleRssMB), '-', '-', '-', '', ''],
        [`exporting ${s.sparseGiB} GiB sparse (through the API)`, fmt(m.peakRssMB), fmt(m.wallSec, 2), fmt(bytes / 1e6 / m.wallSec), fmt(m.cpuPct, 0),
          `${ok ? 'completed' : status.slice(0, 120)}; archive ${fmt(archiveBytes / 1e6, 2)} MB`, verdict(targets[0]!.met)],
        ['serving the pass-through load (section 1)', fmt(ctx.proxyLoadPeakRssMB), '-', '-', '-', '', verdict(targets[1]?.met ?? null)],
      ],
      notes: ['peak RSS = the kernel high-water mark (VmHWM) reset at the start of the phase, cross-checked by sampling'],
    }],
    targets,
    data: { idleRssMB, export: { ...m, status, archiveBytes, volumeBytes: bytes }, loadPeakRssMB: ctx.proxyLoadPeakRssMB },
  };
}
