import { randomUUID } from 'node:crypto';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { PROJECT, type BenchContext } from '../lib/context.js';
import { exportThroughApi, removeArchives } from '../lib/export-api.js';
import { httpGet } from '../lib/procs.js';
import { rssKiB } from '../lib/procstat.js';
import { startProxy } from '../lib/proxy.js';
import { fmt, judge, type SectionResult } from '../lib/report.js';
import { median } from '../lib/rounds.js';
import { writeHalfRandomVolume } from '../lib/volume.js';
import { wrk } from '../lib/wrk.js';

const MB = 1e6;

interface Sample {
  t: number;
  rssMB: number;
  /** A job was running (or had just finished) when the sample was taken. */
  busy: boolean;
  heap?: { totalMB: number; usedMB: number; externalMB: number; newSpaceMB: number; oldSpaceMB: number };
}

/** The heap figures prom-client publishes on /metrics (nodejs_heap_*; spaces by name). */
async function heapOf(proxyUrl: string): Promise<Sample['heap']> {
  const { body } = await httpGet(`${proxyUrl}/metrics`);
  const value = (name: string, label = '') => {
    const line = body.split('\n').find((l) => l.startsWith(name) && (label ? l.includes(label) : l.startsWith(`${name} `)));
    return Number(line?.slice(line.lastIndexOf(' ') + 1)) / MB;
  };
  return {
    totalMB: value('nodejs_heap_size_total_bytes'), usedMB: value('nodejs_heap_size_used_bytes'),
    externalMB: value('nodejs_external_memory_bytes'),
    newSpaceMB: value('nodejs_heap_space_size_total_bytes', 'space="new"'), oldSpaceMB: value('nodejs_heap_space_size_total_bytes', 'space="old"'),
  };
}


/**
 * Issue 13: memory over time. A proxy of its own (fresh process, fake upstream) serves a paced GET load of
 * volumes/detail for BENCH_SOAK_S while a 1 GiB volume (16 MiB random, 16 MiB zeros, the rest a hole) is exported every
 * BENCH_SOAK_EXPORT_EVERY_S through the API. RSS is sampled every second; the target compares the samples
 * taken while no job runs, first minute against last minute. Heap figures (from /metrics) say whether growth
 * is V8's heap (and which space) or memory outside it.
 */
export async function soak(ctx: BenchContext): Promise<SectionResult> {
  const s = ctx.settings;
  const up = await ctx.upstream();
  const volumesDir = ctx.dir('soak-volumes');
  const id = randomUUID();
  await writeHalfRandomVolume(join(volumesDir, `volume-${id}`), 32 * 2 ** 20);
  await truncate(join(volumesDir, `volume-${id}`), 2 ** 30);
  const dir = ctx.dir('proxy-soak');
  const proxy = await startProxy(ctx.runtime, { dir, upstreamUrl: up.url, logLevel: s.proxyLogLevel, volumePath: join(volumesDir, 'volume-{id}'), nodeFlags: s.proxyNodeFlags });
  try {
    const connections = 16;
    const load = wrk(`${proxy.url}/v3/${PROJECT}/volumes/detail`, { connections, durationSec: s.soakSec, paceMs: (1000 * connections) / s.soakRps, dir: ctx.dir('wrk-soak') });
    const t0 = Date.now();
    const samples: Sample[] = [];
    const exports: { startedAt: number; sec: number; status: string }[] = [];
    let busyUntil = 0;
    let running = false;
    const sampler = setInterval(() => {
      const t = (Date.now() - t0) / 1000;
      try { samples.push({ t, rssMB: (rssKiB(proxy.pid) * 1024) / MB, busy: running || Date.now() < busyUntil }); } catch { /* exited */ }
    }, 1000);
    const heapTimer = setInterval(() => {
      const sample = samples.at(-1);
      if (sample) void heapOf(proxy.url).then((h) => { sample.heap = h; }, () => undefined);
    }, 5000);
    try {
      while (Date.now() - t0 < s.soakSec * 1000) {
        const started = Date.now();
        running = true;
        const status = await exportThroughApi(proxy.url, PROJECT, id, 10 * 60_000).finally(() => { running = false; });
        // a second to let the job's buffers go before an idle sample counts
        busyUntil = Date.now() + 1000;
        exports.push({ startedAt: (started - t0) / 1000, sec: (Date.now() - started) / 1000, status });
        removeArchives(join(dir, 'exports'), id);
        const next = started + s.soakExportEverySec * 1000;
        while (Date.now() < next && Date.now() - t0 < s.soakSec * 1000) await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      clearInterval(sampler);
      clearInterval(heapTimer);
    }
    const gets = await load;
    const idle = samples.filter((x) => !x.busy);
    const window = Math.min(60, s.soakSec / 3);
    // when the exports left no idle second in a window (a slow machine), its 5 nearest idle samples stand in
    const inFirst = idle.filter((x) => x.t <= window);
    const inLast = idle.filter((x) => x.t >= s.soakSec - window);
    const first = inFirst.length ? inFirst : idle.slice(0, 5);
    const last = inLast.length ? inLast : idle.slice(-5);
    const growth = first.length && last.length ? 100 * (median(last.map((x) => x.rssMB)) / median(first.map((x) => x.rssMB)) - 1) : null;
    const failed = exports.filter((e) => !e.status.startsWith('Export completed')).length;
    const target = judge(`soak ${s.soakSec} s: idle RSS growth, first ${fmt(window, 0)} s to the last`, growth, '%', '< 10 %', (g) => g < 10,
      `${fmt(median(first.map((x) => x.rssMB)))} -> ${fmt(median(last.map((x) => x.rssMB)))} MB (idle medians${inFirst.length && inLast.length ? '' : `, at ${fmt(first[0]?.t, 0)} s and ${fmt(last.at(-1)?.t, 0)} s`}); max ${fmt(Math.max(...samples.map((x) => x.rssMB)))} MB;`
      + ` ${gets.requests} GETs, ${gets.errors} errors; ${exports.length} exports, ${failed} failed`);
    // one row per window: idle RSS median and the heap figures of the last idle sample that has them
    const rows: (string | number)[][] = [];
    const step = Math.max(10, Math.round(s.soakSec / 12));
    for (let from = 0; from < s.soakSec; from += step) {
      const inWindow = samples.filter((x) => x.t >= from && x.t < from + step);
      const h = inWindow.filter((x) => x.heap).at(-1)?.heap;
      rows.push([`${from}-${from + step} s`, fmt(median(inWindow.filter((x) => !x.busy).map((x) => x.rssMB))), fmt(Math.max(...inWindow.map((x) => x.rssMB))), fmt(h?.totalMB), fmt(h?.usedMB), fmt(h?.newSpaceMB), fmt(h?.oldSpaceMB), fmt(h?.externalMB),
        exports.filter((e) => e.startedAt >= from && e.startedAt < from + step).length]);
    }
    return {
      name: 'soak',
      tables: [{
        title: `6. Soak: ${s.soakSec} s of GETs (~${s.soakRps} req/s, ${connections} conns) through a fresh proxy, an export of a 1 GiB volume every ${s.soakExportEverySec} s`,
        header: ['window', 'idle RSS MB', 'max RSS MB', 'heap total MB', 'heap used MB', 'new space MB', 'old space MB', 'external MB', 'exports started'],
        rows,
        notes: [`proxy node flags: ${s.proxyNodeFlags.join(' ') || '(none)'}; export wall ${fmt(median(exports.map((e) => e.sec)), 2)} s median;`
          + ` GET p50 ${fmt(gets.p50, 2)} ms, p99 ${fmt(gets.p99, 2)} ms`],
      }],
      targets: [target],
      data: { samples, exports, gets, nodeFlags: s.proxyNodeFlags },
    };
  } finally {
    await proxy.stop();
  }
}
