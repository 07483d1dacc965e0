import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../lib/context.js';
import { startProxy } from '../lib/proxy.js';
import { fmt, judge, type SectionResult, type Target } from '../lib/report.js';
import { benchVolume, holdLock, sharedCinder, E2E_LOCK } from '../lib/shared-cinder.js';

/** One GET on a keep-alive agent: milliseconds to the last byte, and the status. */
function timedGet(agent: http.Agent, url: string, headers: Record<string, string>): Promise<{ ms: number; status: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const req = http.get(url, { agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, status: res.statusCode ?? 0 }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: GET ${url}`)));
    req.on('error', reject);
  });
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

/**
 * Issue 13: what the proxy adds in front of the real Cinder of scripts/cinder-dev. Requests go one at a
 * time, alternating direct and through the proxy, so both see the same Cinder and the same machine load;
 * the target compares the p50s (and the note shows the median of the paired differences). Holds the e2e
 * lock for the whole section; starts Cinder only if it is not up, never stops it; its one volume is deleted.
 */
export async function cinder(ctx: BenchContext): Promise<SectionResult> {
  const s = ctx.settings;
  const release = await holdLock();
  const agents = { direct: new http.Agent({ keepAlive: true, maxSockets: 1 }), proxy: new http.Agent({ keepAlive: true, maxSockets: 1 }) };
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  let volume: Awaited<ReturnType<typeof benchVolume>> | undefined;
  try {
    const c = await sharedCinder();
    volume = await benchVolume(c, `stx-bench-${randomUUID().slice(0, 8)}`);
    proxy = await startProxy(ctx.runtime, {
      dir: ctx.dir('proxy-cinder'), upstreamUrl: c.url, logLevel: s.proxyLogLevel, volumePath: `${ctx.dir('cinder-volumes')}/volume-{id}`, nodeFlags: s.proxyNodeFlags,
    });
    const headers = { 'X-Auth-Token': c.token, Accept: 'application/json' };
    const paths = [
      { name: 'volumes/detail', path: `/v3/${c.projectId}/volumes/detail` },
      { name: 'volumes/{id}', path: `/v3/${c.projectId}/volumes/${volume.id}` },
    ];
    const rows: (string | number)[][] = [];
    const targets: Target[] = [];
    const data: Record<string, unknown> = { cinderUrl: c.url, startedHere: c.startedHere, requests: s.cinderRequests };
    for (const p of paths) {
      const via = { direct: c.url + p.path, proxy: proxy.url + p.path };
      for (let i = 0; i < 10; i++) { await timedGet(agents.direct, via.direct, headers); await timedGet(agents.proxy, via.proxy, headers); }
      const direct: number[] = [];
      const through: number[] = [];
      const paired: number[] = [];
      let errors = 0;
      for (let i = 0; i < s.cinderRequests; i++) {
        // alternate which goes first, so neither always meets a Cinder that just answered
        const first = i % 2 === 0 ? 'direct' : 'proxy';
        const a = await timedGet(agents[first], via[first], headers);
        const second = first === 'direct' ? 'proxy' : 'direct';
        const b = await timedGet(agents[second], via[second], headers);
        const [d, x] = first === 'direct' ? [a, b] : [b, a];
        if (d.status !== 200 || x.status !== 200) errors++;
        direct.push(d.ms); through.push(x.ms); paired.push(x.ms - d.ms);
      }
      const d50 = quantile(direct, 0.5);
      const x50 = quantile(through, 0.5);
      const added = x50 - d50;
      targets.push(judge(`real Cinder ${p.name}: p50 added by the proxy, share of Cinder's p50`, (100 * added) / d50, '%', '<= 5 %', (v) => v <= 5,
        `${fmt(x50, 2)} vs ${fmt(d50, 2)} ms (+${fmt(added, 2)} ms; median paired difference ${fmt(quantile(paired, 0.5), 2)} ms)${errors ? `; ${errors} non-200` : ''}`));
      rows.push([p.name, 'direct', fmt(d50, 2), fmt(quantile(direct, 0.99), 2), '-', errors]);
      rows.push([p.name, 'proxy', fmt(x50, 2), fmt(quantile(through, 0.99), 2), `${fmt(added, 2)} (${fmt((100 * added) / d50, 1)} %)`, errors]);
      data[p.name] = { direct, proxy: through };
    }
    return {
      name: 'cinder',
      tables: [{
        title: `5. In front of the real Cinder (scripts/cinder-dev, ${c.url}): ${s.cinderRequests} GETs each way per path, one at a time, alternating`,
        header: ['path', 'via', 'p50 ms', 'p99 ms', 'p50 added ms', 'errors'],
        rows,
        notes: [`Cinder ${c.startedHere ? 'was started by this run (left running)' : 'was already running (left as it was)'}; ${E2E_LOCK} held throughout;`
          + ' the proxy rewrites both answers (backup_status spliced in)'],
      }],
      targets,
      data,
    };
  } finally {
    agents.direct.destroy(); agents.proxy.destroy();
    await proxy?.stop();
    await volume?.remove();
    await release();
  }
}
