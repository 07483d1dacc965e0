import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { StateStore } from '../state/types.js';

export interface Metrics {
  registry: Registry;
  countRequest(route: string, status: number): void;
}

/** A registry of our own (never prom-client's global one), so several proxies can live in one process. */
export function createMetrics(store: StateStore): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'stx_proxy_requests_total',
    help: 'Requests served, by route kind and HTTP status',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'stx_proxy_jobs',
    help: 'Unfinished jobs by state',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      const counts = { queued: 0, running: 0 };
      // a scrape while the state store is down leaves the gauge as it was
      const jobs = await store.listJobs({ unfinishedOnly: true }).catch(() => undefined);
      if (!jobs) return;
      for (const job of jobs) if (job.state === 'queued' || job.state === 'running') counts[job.state] += 1;
      for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
    },
  });
  return {
    registry,
    countRequest: (route, status) => requests.inc({ route, status: String(status) }),
  };
}
