import { httpGet } from './procs.js';

/** The proxy's garbage collections so far, from its own /metrics (prom-client's nodejs_gc_duration_seconds). */
export interface GcTotals {
  minor: { count: number; seconds: number };
  major: { count: number; seconds: number };
}

function sample(text: string, name: string, kind: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`kind="${kind}"`));
  const value = Number(line?.slice(line.lastIndexOf(' ') + 1));
  return Number.isFinite(value) ? value : 0;
}

export async function gcTotals(proxyUrl: string): Promise<GcTotals> {
  const { body } = await httpGet(`${proxyUrl}/metrics`);
  const kind = (k: string) => ({ count: sample(body, 'nodejs_gc_duration_seconds_count', k), seconds: sample(body, 'nodejs_gc_duration_seconds_sum', k) });
  return { minor: kind('minor'), major: kind('major') };
}

/** What two readings a and b had between them, added to `sum` (several loads, the idle time between them left out). */
export function addGcBetween(sum: GcTotals, a: GcTotals, b: GcTotals): GcTotals {
  const add = (s: GcTotals['minor'], x: GcTotals['minor'], y: GcTotals['minor']) => ({ count: s.count + y.count - x.count, seconds: s.seconds + y.seconds - x.seconds });
  return { minor: add(sum.minor, a.minor, b.minor), major: add(sum.major, a.major, b.major) };
}

export const NO_GC: GcTotals = { minor: { count: 0, seconds: 0 }, major: { count: 0, seconds: 0 } };

/** What happened between two readings, per second of load: scavenges (minor) and full GCs (major). */
export function gcDuring(before: GcTotals, after: GcTotals, seconds: number): string {
  const part = (name: string, b: { count: number; seconds: number }, a: { count: number; seconds: number }) => {
    const n = a.count - b.count;
    const ms = (a.seconds - b.seconds) * 1000;
    return `${name} ${(n / seconds).toFixed(1)}/s, mean pause ${n > 0 ? (ms / n).toFixed(2) : '-'} ms`;
  };
  return `${part('scavenges', before.minor, after.minor)}; ${part('full GCs', before.major, after.major)}`;
}
