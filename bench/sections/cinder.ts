import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { BenchContext } from '../lib/context.js';
import { startNginx, type Nginx } from '../lib/nginx.js';
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

/** The ways to Cinder, in the order of the table; the first is the reference the others are judged against. */
const WAYS = ['direct', 'nginx', 'node tcp relay', 'bare node proxy (floor)', 'proxy'] as const;
type Way = typeof WAYS[number];

/**
 * Issue 13: what the proxy adds in front of the real Cinder of scripts/cinder-dev, beside what Debian's nginx,
 * a Node process relaying TCP bytes (one more process on the path, no HTTP) and the bare Node proxy of the
 * pass-through section add in front of the same Cinder. Requests go one at a time, the five ways in an
 * order that rotates every round, so all see the same Cinder and the same machine load; the target compares the p50s. Holds the e2e lock for the whole section; starts Cinder only if it is
 * not up, never stops it; its one volume is deleted.
 */
export async function cinder(ctx: BenchContext): Promise<SectionResult> {
  const s = ctx.settings;
  const release = await holdLock();
  const agents = Object.fromEntries(WAYS.map((w) => [w, new http.Agent({ keepAlive: true, maxSockets: 1 })])) as Record<Way, http.Agent>;
  let proxy: Awaited<ReturnType<typeof startProxy>> | undefined;
  let floor: Awaited<ReturnType<BenchContext['floorProxyFor']>> | undefined;
  let relay: Awaited<ReturnType<BenchContext['relayFor']>> | undefined;
  let nginx: Nginx | undefined;
  let volume: Awaited<ReturnType<typeof benchVolume>> | undefined;
  try {
    const c = await sharedCinder();
    volume = await benchVolume(c, `stx-bench-${randomUUID().slice(0, 8)}`);
    proxy = await startProxy(ctx.runtime, {
      dir: ctx.dir('proxy-cinder'), upstreamUrl: c.url, logLevel: s.proxyLogLevel, volumePath: `${ctx.dir('cinder-volumes')}/volume-{id}`, nodeFlags: s.proxyNodeFlags,
    });
    const cinderPort = Number(new URL(c.url).port);
    floor = await ctx.floorProxyFor(cinderPort);
    relay = await ctx.relayFor(cinderPort);
    nginx = await startNginx(ctx.dir('nginx-cinder'), cinderPort);
    const bases: Record<Way, string> = { direct: c.url, nginx: nginx.url, 'node tcp relay': relay.url, 'bare node proxy (floor)': floor.url, proxy: proxy.url };
    const headers = { 'X-Auth-Token': c.token, Accept: 'application/json' };
    const paths = [
      { name: 'volumes/detail', path: `/v3/${c.projectId}/volumes/detail` },
      { name: 'volumes/{id}', path: `/v3/${c.projectId}/volumes/${volume.id}` },
    ];
    const rows: (string | number)[][] = [];
    const targets: Target[] = [];
    const notes: string[] = [];
    const data: Record<string, unknown> = { cinderUrl: c.url, startedHere: c.startedHere, requests: s.cinderRequests };
    for (const p of paths) {
      for (let i = 0; i < 10; i++) for (const w of WAYS) await timedGet(agents[w], bases[w] + p.path, headers);
      const times = Object.fromEntries(WAYS.map((w) => [w, [] as number[]])) as Record<Way, number[]>;
      let errors = 0;
      for (let i = 0; i < s.cinderRequests; i++) {
        for (let k = 0; k < WAYS.length; k++) {
          const w = WAYS[(k + i) % WAYS.length]!;
          const r = await timedGet(agents[w], bases[w] + p.path, headers);
          if (r.status !== 200) errors++;
          times[w].push(r.ms);
        }
      }
      const p50 = (w: Way) => quantile(times[w], 0.5);
      const d50 = p50('direct');
      const added = (w: Way) => p50(w) - d50;
      const share = (w: Way) => (100 * added(w)) / d50;
      targets.push(judge(`real Cinder ${p.name}: p50 added by the proxy, share of Cinder's p50`, share('proxy'), '%', '<= 5 %', (v) => v <= 5,
        `${fmt(p50('proxy'), 2)} vs ${fmt(d50, 2)} ms (+${fmt(added('proxy'), 2)} ms); the bare Node proxy adds ${fmt(added('bare node proxy (floor)'), 2)} ms `
        + `(${fmt(share('bare node proxy (floor)'), 1)} %), nginx ${fmt(added('nginx'), 2)} ms (${fmt(share('nginx'), 1)} %)${errors ? `; ${errors} non-200` : ''}`));
      for (const w of WAYS) {
        rows.push([p.name, w, fmt(p50(w), 2), fmt(quantile(times[w], 0.99), 2), w === 'direct' ? '-' : `${fmt(added(w), 2)} (${fmt(share(w), 1)} %)`, errors]);
      }
      // what each layer adds over the one below it: one more process, Node's HTTP stack, the project's code
      notes.push(`${p.name}: p50 added by one more Node process on the path (the relay) ${fmt(added('node tcp relay'), 2)} ms, `
        + `by Node's HTTP stack on top (the floor over the relay) ${fmt(added('bare node proxy (floor)') - added('node tcp relay'), 2)} ms, `
        + `by the project's code on top (the proxy over the floor) ${fmt(added('proxy') - added('bare node proxy (floor)'), 2)} ms`);
      data[p.name] = times;
    }
    return {
      name: 'cinder',
      tables: [{
        title: `5. In front of the real Cinder (scripts/cinder-dev, ${c.url}): ${s.cinderRequests} GETs each way per path, one at a time, order rotating`,
        header: ['path', 'via', 'p50 ms', 'p99 ms', 'p50 added ms', 'errors'],
        rows,
        notes: [...notes, `Cinder ${c.startedHere ? 'was started by this run (left running)' : 'was already running (left as it was)'}; ${E2E_LOCK} held throughout;`
          + ' the proxy rewrites both answers (backup_status spliced in); nginx and the bare Node proxy pass them as they are'],
      }],
      targets,
      data,
    };
  } finally {
    for (const a of Object.values(agents)) a.destroy();
    await proxy?.stop();
    await floor?.proc.stop();
    await relay?.proc.stop();
    await nginx?.stop();
    await volume?.remove();
    await release();
  }
}
