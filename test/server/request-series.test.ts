import { Counter, Histogram, Registry, type RegistryContentType } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RouteHistogram, RouteStatusCounter } from '../../src/server/request-series.js';

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
// bound values themselves, values between and above the last bound, several routes and statuses, interleaved
const OBSERVED: Array<[string, number, number]> = [
  ['forward', 200, 0.004], ['forward', 200, 0.005], ['volume-action', 202, 0.0051], ['forward', 404, 0.3],
  ['ops', 200, 0], ['forward', 200, 61], ['volume-action', 400, 60], ['forward', 503, 1e-9], ['volume-action', 202, 2.5],
];

/** The same observations through ours and through prom-client's own classes, each in a registry of its own. */
function both(contentType?: RegistryContentType): { ours: Registry<RegistryContentType>; theirs: Registry<RegistryContentType> } {
  const ours = new Registry<RegistryContentType>();
  const counter = new RouteStatusCounter('t_requests_total', 'Requests', ours);
  const histogram = new RouteHistogram('t_latency_seconds', 'Latency', BOUNDS, ours);
  const theirs = new Registry<RegistryContentType>();
  if (contentType) for (const r of [ours, theirs]) r.setContentType(contentType);
  const pCounter = new Counter({ name: 't_requests_total', help: 'Requests', labelNames: ['route', 'status'], registers: [theirs] });
  const pHistogram = new Histogram({ name: 't_latency_seconds', help: 'Latency', labelNames: ['route'], buckets: BOUNDS, registers: [theirs] });
  for (const [route, status, seconds] of OBSERVED) {
    counter.inc(route, status);
    histogram.observe(route, seconds);
    pCounter.inc({ route, status: String(status) });
    pHistogram.observe({ route }, seconds);
  }
  return { ours, theirs };
}

const sortedLines = (text: string) => text.split('\n').sort();

describe('per-request series', () => {
  it('expose exactly the text prom-client\'s Counter and Histogram expose for the same observations', async () => {
    const { ours, theirs } = both();
    const text = await ours.metrics();
    expect(text).toContain('t_latency_seconds_bucket{le="0.005",route="forward"} 3');
    expect(text).toContain('t_latency_seconds_bucket{le="+Inf",route="forward"} 5');
    expect(text).toContain('t_requests_total{route="volume-action",status="202"} 2');
    expect(sortedLines(text)).toEqual(sortedLines(await theirs.metrics()));
  });

  it('expose the same OpenMetrics text (where the registry renames counters)', async () => {
    const { ours, theirs } = both(Registry.OPENMETRICS_CONTENT_TYPE);
    const text = await ours.metrics();
    expect(text).toContain('t_requests_total{route="forward",status="200"} 3');
    expect(sortedLines(text)).toEqual(sortedLines(await theirs.metrics()));
  });

  it('give the same JSON form, and start again from nothing after a reset', async () => {
    const { ours, theirs } = both();
    // prom-client's own values carry `exemplar: null` (none recorded); key order and series order are not part of the form
    type JsonValue = { metricName?: string; labels: Record<string, unknown>; value: number; exemplar?: unknown };
    const normal = (m: Array<{ values: JsonValue[] }>) => m.map((x) => ({ ...x,
      values: x.values.map((v) => { expect(v.exemplar ?? null).toBeNull(); return JSON.stringify([v.metricName, Object.entries(v.labels).sort(), v.value]); }).sort() }));
    expect(normal(await ours.getMetricsAsJSON() as never)).toEqual(normal(await theirs.getMetricsAsJSON() as never));
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('leave out a value that is not a finite number (prom-client would throw in the request path)', async () => {
    const registry = new Registry();
    const histogram = new RouteHistogram('t_latency_seconds', 'Latency', BOUNDS, registry);
    histogram.observe('forward', Number.NaN);
    histogram.observe('forward', Number.POSITIVE_INFINITY);
    histogram.observe('forward', 0.2);
    expect(await registry.metrics()).toContain('t_latency_seconds_count{route="forward"} 1');
  });
});
