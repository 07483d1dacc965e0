import { BIG_PROJECT, BenchContext } from '../lib/context.js';
import { httpGet } from '../lib/procs.js';
import { fmt, judge, verdict, type SectionResult } from '../lib/report.js';
import { wrk, type WrkResult } from '../lib/wrk.js';
import { inRounds } from '../lib/rounds.js';

/**
 * Point 2: the cost of rewriting a big volumes/detail answer (parse, look up and inject backup_status
 * for every volume, serialise) against the same answer the proxy streams untouched (the summary path,
 * for which the fake upstream sends the same bytes). One connection, so latency is per call, not queueing.
 */
export async function rewrite(ctx: BenchContext): Promise<SectionResult> {
  const up = await ctx.upstream();
  const proxy = await ctx.proxy();
  // the same proxy with its state in PostgreSQL (a database of the run's own), side by side with SQLite
  const pgProxy = await ctx.pgProxy();
  const s = ctx.settings;
  const dir = ctx.dir('wrk');
  const detail = `/v3/${BIG_PROJECT}/volumes/detail`;
  const summary = `/v3/${BIG_PROJECT}/volumes`;
  const calls = [
    { name: 'direct', url: up.url + detail },
    { name: 'proxy, untouched (streamed)', url: proxy.url + summary },
    { name: 'proxy, rewritten (backup_status injected)', url: proxy.url + detail },
    { name: 'proxy on PostgreSQL state, rewritten', url: pgProxy.url + detail },
  ];
  const res = await httpGet(proxy.url + detail, { 'X-Auth-Token': 'bench' });
  const doc = JSON.parse(res.body) as { volumes?: Record<string, unknown>[] };
  const volumes = doc.volumes ?? [];
  const injectedAll = volumes.length === s.rewriteVolumes && volumes.every((v) => 'wrs-volume:backup_status' in v);
  const untouched = !(await httpGet(proxy.url + summary, { 'X-Auth-Token': 'bench' })).body.includes('wrs-volume:backup_status');

  for (const c of calls) await wrk(c.url, { connections: 1, durationSec: 1, dir });
  const rows: (WrkResult & { call: string })[] = [];
  const best = await inRounds(calls, s.rounds, async (c) => wrk(c.url, { connections: 1, durationSec: s.durationSec, dir }), (r) => r.p50);
  for (const c of calls) rows.push({ call: c.name, ...best.get(c.name)! });
  const [direct, plain, rewritten, pgRewritten] = rows;
  const added = rewritten && plain ? rewritten.p50 - plain.p50 : null;
  const pgAdded = pgRewritten && plain ? pgRewritten.p50 - plain.p50 : null;
  const notes = [
    `answer: ${s.rewriteVolumes} volumes, ${fmt((rewritten?.bytesPerReq ?? 0) / 1024, 0)} KiB through the proxy; ` +
      `every volume got wrs-volume:backup_status: ${injectedAll ? 'yes' : 'NO'}; untouched path left alone: ${untouched ? 'yes' : 'NO'}`,
  ];
  const passCost = direct && plain ? plain.p50 - direct.p50 : null;
  const untouchedTarget = judge(`${s.rewriteVolumes}-volume answer passed untouched, added p50 over direct`, passCost, 'ms', '<= 1 ms', (x) => x <= 1,
    `untouched p50 ${fmt(plain?.p50, 2)} vs direct ${fmt(direct?.p50, 2)} ms; p99 ${fmt(plain?.p99, 2)} vs ${fmt(direct?.p99, 2)} ms`);
  const target = judge(`rewrite of ${s.rewriteVolumes} volumes, added p50 on top of the untouched path`, injectedAll ? added : null, 'ms', '< 3 ms', (x) => x < 3,
    `mean +${fmt(rewritten && plain ? rewritten.mean - plain.mean : null, 2)} ms, p99 +${fmt(rewritten && plain ? rewritten.p99 - plain.p99 : null, 2)} ms` +
    (injectedAll ? '' : '; injection NOT seen, figure void'));
  const pgTarget = judge(`rewrite of ${s.rewriteVolumes} volumes with PostgreSQL state, added p50 on top of the untouched path`,
    pgAdded, 'ms', '< 3 ms', (x) => x < 3, `SQLite state: +${fmt(added, 2)} ms; PostgreSQL state: +${fmt(pgAdded, 2)} ms`);
  notes.push(`untouched adds ${fmt(passCost, 2)} ms p50 over direct (target <= 1 ms: ${verdict(untouchedTarget.met)}); `
    + `the rewrite adds ${fmt(added, 2)} ms on top (target < 3 ms: ${verdict(target.met)})`);
  return {
    name: 'rewrite',
    tables: [{
      title: `2. Rewrite cost: ${s.rewriteVolumes} volumes in volumes/detail, 1 connection, ${s.durationSec} s each`,
      header: ['call', 'req/s', 'mean ms', 'p50 ms', 'p99 ms', 'added p50 ms (vs direct)'],
      rows: rows.map((r) => [r.call, fmt(r.rps, 0), fmt(r.mean, 2), fmt(r.p50, 2), fmt(r.p99, 2), direct && r !== direct ? fmt(r.p50 - direct.p50, 2) : '-']),
      notes,
    }],
    targets: [untouchedTarget, target, pgTarget],
    data: { rows, injectedAll, untouched, volumes: s.rewriteVolumes },
  };
}
