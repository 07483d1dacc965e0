import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EngineObserver } from '../export/contract.js';
import type { StateStore } from '../state/types.js';
import { RouteHistogram, RouteStatusCounter } from './request-series.js';

export interface Metrics {
  registry: Registry;
  countRequest(route: string, status: number): void;
  /** Time from a forwarded request's arrival to the upstream's status line. */
  upstreamLatency(route: string, seconds: number): void;
  /** A state store call that failed (`op` = the store method). */
  storeError(op: string): void;
  /** Handed to the engine (which must not import the server). */
  engine: EngineObserver;
}

const JOB_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600];
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** A registry of our own (never prom-client's global one), so several proxies can live in one process. */
export function createMetrics(store: Pick<StateStore, 'listJobs'>): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const requests = new RouteStatusCounter('stx_proxy_requests_total', 'Requests served, by route kind and HTTP status', registry);
  const unfinished = async () => {
    const counts = { queued: 0, running: 0 };
    // a scrape while the state store is down counts nothing rather than fail the whole answer
    for (const job of await store.listJobs({ unfinishedOnly: true }).catch(() => [])) if (job.state === 'queued' || job.state === 'running') counts[job.state] += 1;
    return counts;
  };
  new Gauge({
    name: 'stx_proxy_jobs', help: 'Unfinished jobs by state (every replica on a shared database)',
    labelNames: ['state'] as const, registers,
    async collect() { for (const [state, n] of Object.entries(await unfinished())) this.set({ state }, n); },
  });
  new Gauge({
    name: 'stx_proxy_job_queue_depth', help: 'Jobs recorded and waiting for a worker', registers,
    async collect() { this.set((await unfinished()).queued); },
  });
  const duration = new Histogram({
    name: 'stx_proxy_job_duration_seconds', help: 'Job run time, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const, buckets: JOB_BUCKETS, registers,
  });
  const bytes = new Counter({
    name: 'stx_proxy_volume_bytes_total', help: 'Volume bytes read by exports and written by imports',
    labelNames: ['kind'] as const, registers,
  });
  const failures = new Counter({
    name: 'stx_proxy_job_failures_total', help: 'Failed jobs, by kind and reason class (the job\'s error code)',
    labelNames: ['kind', 'reason'] as const, registers,
  });
  const upstream = new RouteHistogram('stx_proxy_upstream_latency_seconds',
    'Forwarded requests: time until the upstream answered, by route kind', UPSTREAM_BUCKETS, registry);
  const storeErrors = new Counter({
    name: 'stx_proxy_store_errors_total', help: 'State store calls that failed, by operation',
    labelNames: ['op'] as const, registers,
  });
  return {
    registry,
    countRequest: (route, status) => requests.inc(route, status),
    upstreamLatency: (route, seconds) => upstream.observe(route, seconds),
    storeError: (op) => storeErrors.inc({ op }),
    engine: {
      jobFinished({ kind, outcome, seconds, errorCode }) {
        duration.observe({ kind, outcome }, seconds);
        if (outcome === 'failed') failures.inc({ kind, reason: errorCode ?? 'unknown' });
      },
      bytesMoved: (kind, n) => bytes.inc({ kind }, n),
    },
  };
}
