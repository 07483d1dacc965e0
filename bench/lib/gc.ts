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

/** What happened between two readings, per second of load: scavenges (minor) and full GCs (major). */
export function gcDuring(before: GcTotals, after: GcTotals, seconds: number): string {
  const part = (name: string, b: { count: number; seconds: number }, a: { count: number; seconds: number }) => {
    const n = a.count - b.count;
    const ms = (a.seconds - b.seconds) * 1000;
    return `${name} ${(n / seconds).toFixed(1)}/s, mean pause ${n > 0 ? (ms / n).toFixed(2) : '-'} ms`;
  };
  return `${part('scavenges', before.minor, after.minor)}; ${part('full GCs', before.major, after.major)}`;
}
