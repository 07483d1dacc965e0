import { BIG_PROJECT, BenchContext } from '../lib/context.js';
import { httpGet } from '../lib/procs.js';
import type { ProxyChild } from '../lib/proxy.js';
import { fmt, judge, verdict, type SectionResult, type Target } from '../lib/report.js';
import { wrk, type WrkResult } from '../lib/wrk.js';

type Row = WrkResult & { call: string; store: string };

/** One store's figures: the answer checked, then the untouched and the rewritten path under load. */
async function measure(ctx: BenchContext, store: string, proxy: ProxyChild, dir: string): Promise<{ rows: Row[]; target: Target; note: string }> {
  const s = ctx.settings;
  const detail = `${proxy.url}/v3/${BIG_PROJECT}/volumes/detail`;
  const summary = `${proxy.url}/v3/${BIG_PROJECT}/volumes`;
  const doc = JSON.parse((await httpGet(detail, { 'X-Auth-Token': 'bench' })).body) as { volumes?: Record<string, unknown>[] };
  const volumes = doc.volumes ?? [];
  const injectedAll = volumes.length === s.rewriteVolumes && volumes.every((v) => 'wrs-volume:backup_status' in v);
  const untouched = !(await httpGet(summary, { 'X-Auth-Token': 'bench' })).body.includes('wrs-volume:backup_status');
  for (const url of [summary, detail]) await wrk(url, { connections: 1, durationSec: 1, dir });
  const plain = { call: 'proxy, untouched (streamed)', store, ...(await wrk(summary, { connections: 1, durationSec: s.durationSec, dir })) };
  const rewritten = { call: 'proxy, rewritten (backup_status injected)', store, ...(await wrk(detail, { connections: 1, durationSec: s.durationSec, dir })) };
  const added = rewritten.p50 - plain.p50;
  const target = judge(`rewrite of ${s.rewriteVolumes} volumes, added p50 per call (${store})`, injectedAll ? added : null, 'ms', '< 5 ms', (x) => x < 5,
    `mean +${fmt(rewritten.mean - plain.mean, 2)} ms, p99 +${fmt(rewritten.p99 - plain.p99, 2)} ms` + (injectedAll ? '' : '; injection NOT seen, figure void'));
  const note = `${store}: ${fmt(rewritten.bytesPerReq / 1024, 0)} KiB through the proxy; every volume got wrs-volume:backup_status: ` +
    `${injectedAll ? 'yes' : 'NO'}; untouched path left alone: ${untouched ? 'yes' : 'NO'}; added p50 ${fmt(added, 2)} ms (target < 5 ms: ${verdict(target.met)})`;
  return { rows: [plain, rewritten], target, note };
}

/**
 * Point 2: the cost of rewriting a big volumes/detail answer (parse, look up and inject backup_status
 * for every volume, serialise) against the same answer the proxy streams untouched (the summary path,
 * for which the fake upstream sends the same bytes), with the state in the embedded SQLite and in
 * PostgreSQL (a database of the run's own, dropped at the end). One connection, so latency is per call.
 */
export async function rewrite(ctx: BenchContext): Promise<SectionResult> {
  const up = await ctx.upstream();
  const s = ctx.settings;
  const dir = ctx.dir('wrk');
  const directUrl = `${up.url}/v3/${BIG_PROJECT}/volumes/detail`;
  await wrk(directUrl, { connections: 1, durationSec: 1, dir });
  const direct: Row = { call: 'direct', store: '-', ...(await wrk(directUrl, { connections: 1, durationSec: s.durationSec, dir })) };

  const rows: Row[] = [direct];
  const targets: Target[] = [];
  const notes: string[] = [];
  for (const [store, start] of [['SQLite', () => ctx.proxy()], ['PostgreSQL', () => ctx.pgProxy()]] as const) {
    try {
      const m = await measure(ctx, store, await start(), dir);
      rows.push(...m.rows);
      targets.push(m.target);
      notes.push(m.note);
    } catch (err) {
      // e.g. no PostgreSQL server at BENCH_PG_URL: the other store's figures still count
      targets.push(judge(`rewrite of ${s.rewriteVolumes} volumes, added p50 per call (${store})`, null, 'ms', '< 5 ms', () => false, (err as Error).message));
      notes.push(`${store}: not measured: ${(err as Error).message}`);
    }
  }
  notes.push(`direct p50 ${fmt(direct.p50, 2)} ms; answer: ${s.rewriteVolumes} volumes`);
  const plainOf = (store: string) => rows.find((r) => r.store === store && r.call.startsWith('proxy, untouched'));
  return {
    name: 'rewrite',
    tables: [{
      title: `2. Rewrite cost: ${s.rewriteVolumes} volumes in volumes/detail, 1 connection, ${s.durationSec} s each, SQLite and PostgreSQL state`,
      header: ['call', 'state', 'req/s', 'mean ms', 'p50 ms', 'p99 ms', 'added p50 ms (vs untouched)'],
      rows: rows.map((r) => {
        const plain = plainOf(r.store);
        return [r.call, r.store, fmt(r.rps, 0), fmt(r.mean, 2), fmt(r.p50, 2), fmt(r.p99, 2), plain && r !== direct ? fmt(r.p50 - plain.p50, 2) : '-'];
      }),
      notes,
    }],
    targets,
    data: { rows, volumes: s.rewriteVolumes },
  };
}
