import type { Registry, RegistryContentType } from 'prom-client';

/**
 * The two metrics written on every request, kept as plain numbers and turned into prom-client's form only when
 * scraped. prom-client's own Counter and Histogram validate and hash the label set on every inc() and observe()
 * (and a histogram turns its bucket bound into a string key), which a CPU profile of the pass-through path put at
 * about 2 % of the proxy's time; the exposition text is the same (test/server/request-series.test.ts compares it).
 */

/** Whichever text format the registry writes (Prometheus or OpenMetrics). */
type AnyRegistry = Registry<RegistryContentType>;

interface SeriesValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  sharedLabels?: Record<string, string>;
}

interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: SeriesValue[];
  aggregator: 'sum';
}

/** What prom-client's registry asks of a metric: name and type (OpenMetrics renames counters), its text form (getForPromString, else get) and reset(). */
interface RegistryMetric {
  name: string;
  readonly type: MetricData['type'];
  get(): Promise<MetricData>;
  reset(): void;
}

function register(registry: AnyRegistry, metric: RegistryMetric): void {
  // registerMetric is typed for prom-client's own classes; at run time it needs only what RegistryMetric has
  registry.registerMetric(metric as unknown as Parameters<AnyRegistry['registerMetric']>[0]);
}

/** A counter labelled by route kind and HTTP status. */
export class RouteStatusCounter implements RegistryMetric {
  readonly type = 'counter';
  private counts = new Map<string, Map<number, number>>();

  // not readonly: in OpenMetrics output the registry renames a counter (drops `_total`), as it does prom-client's
  constructor(public name: string, private readonly help: string, registry: AnyRegistry) { register(registry, this); }

  inc(route: string, status: number): void {
    let byStatus = this.counts.get(route);
    if (!byStatus) this.counts.set(route, byStatus = new Map());
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  }

  async get(): Promise<MetricData> {
    const values: SeriesValue[] = [];
    for (const [route, byStatus] of this.counts) for (const [status, value] of byStatus) values.push({ value, labels: { route, status: String(status) } });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void { this.counts.clear(); }
}

interface RouteBuckets { counts: Float64Array; sum: number; count: number }

/** A histogram labelled by route kind, with fixed upper bounds (seconds). */
export class RouteHistogram implements RegistryMetric {
  readonly type = 'histogram';
  private series = new Map<string, RouteBuckets>();

  constructor(readonly name: string, private readonly help: string, private readonly bounds: readonly number[], registry: AnyRegistry) {
    register(registry, this);
  }

  observe(route: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let s = this.series.get(route);
    if (!s) this.series.set(route, s = { counts: new Float64Array(this.bounds.length), sum: 0, count: 0 });
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) { s.counts[i]! += 1; break; }
    }
    s.sum += value;
    s.count += 1;
  }

  /** The registry's text form: cumulative buckets, +Inf, sum and count per route, as prom-client's Histogram lists them. */
  async getForPromString(): Promise<MetricData> {
    const values: SeriesValue[] = [];
    for (const [route, s] of this.series) {
      const shared = { route };
      let acc = 0;
      this.bounds.forEach((le, i) => { acc += s.counts[i]!; values.push({ labels: { le }, value: acc, metricName: `${this.name}_bucket`, sharedLabels: shared }); });
      values.push(
        { labels: { le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket`, sharedLabels: shared },
        { labels: {}, value: s.sum, metricName: `${this.name}_sum`, sharedLabels: shared },
        { labels: {}, value: s.count, metricName: `${this.name}_count`, sharedLabels: shared },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  /** The JSON form (getMetricsAsJSON): the route label merged into each value's labels. */
  async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, ...v }) => ({ ...v, labels: { ...v.labels, ...sharedLabels } })) };
  }

  reset(): void { this.series.clear(); }
}
