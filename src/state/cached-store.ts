import { LRUCache } from 'lru-cache';
import type {
  Claim, Job, JobFinish, ListJobsOptions, LeaseState, NewJob, OverlayCache, Renewal, ResourceOverlay, ResourceType, StateStore, StoreEvent,
} from './types.js';

/**
 * An LRU of overlays in front of any store, for the response-rewrite hot path (`overlays`, the batch read).
 * Entries are dropped on the store's events: every write this process makes, and (PostgreSQL) every
 * change another replica notifies. Everything else, `overlay` included (decisions and refusals), reads
 * the store itself.
 */
export class CachedStateStore implements StateStore, OverlayCache {
  /** One LRU per resource type, keyed by the id alone (a key string made per id cost a tenth of a long list's rewrite). */
  private readonly caches: Record<ResourceType, LRUCache<string, ResourceOverlay>>;
  private readonly unsubscribe: () => void;
  /** Bumped on every event: a read that overlapped a change is returned but not kept. */
  private epoch = 0;

  constructor(private readonly inner: StateStore, maxEntries: number, ttlMs = 0) {
    const options = { max: maxEntries, ...(ttlMs > 0 ? { ttl: ttlMs } : {}) };
    this.caches = { volume: new LRUCache(options), snapshot: new LRUCache(options) };
    this.unsubscribe = inner.subscribe((event) => this.forget(event));
  }

  private forget(event: StoreEvent): void {
    this.epoch++;
    if (event.kind === 'resource') this.caches[event.resourceType].delete(event.resourceId);
    else if (event.kind === 'reset') for (const cache of Object.values(this.caches)) cache.clear();
  }

  /** Forget one resource's entry (a store without events, or a test). */
  invalidate(type: ResourceType, id: string): void {
    this.caches[type].delete(id);
  }

  /** The rewrite of an answer whose resources are all cached needs no promise: most answers are served so. */
  cachedOverlays(type: ResourceType, ids: readonly string[]): Map<string, ResourceOverlay> | undefined {
    const out = new Map<string, ResourceOverlay>();
    const cache = this.caches[type];
    for (const id of ids) {
      const hit = cache.get(id);
      if (!hit) return undefined;
      out.set(id, hit);
    }
    return out;
  }

  async overlays(type: ResourceType, ids: readonly string[]): Promise<Map<string, ResourceOverlay>> {
    const out = new Map<string, ResourceOverlay>();
    const missing: string[] = [];
    const cache = this.caches[type];
    for (const id of ids) {
      const hit = cache.get(id);
      if (hit) out.set(id, hit); else missing.push(id);
    }
    if (missing.length === 0) return out;
    const epoch = this.epoch;
    const read = await this.inner.overlays(type, missing);
    const keep = epoch === this.epoch;
    for (const [id, overlay] of read) { out.set(id, overlay); if (keep) cache.set(id, overlay); }
    return out;
  }

  createJob(job: NewJob): Promise<Job | null> { return this.inner.createJob(job); }
  getJob(id: string): Promise<Job | undefined> { return this.inner.getJob(id); }
  listJobs(options?: ListJobsOptions): Promise<Job[]> { return this.inner.listJobs(options); }
  activeJobFor(type: ResourceType, id: string): Promise<Job | undefined> { return this.inner.activeJobFor(type, id); }
  claimNext(claim: Claim): Promise<Job | undefined> { return this.inner.claimNext(claim); }
  renewLease(id: string, renewal: Renewal): Promise<LeaseState> { return this.inner.renewLease(id, renewal); }
  setFileName(id: string, fileName: string): Promise<void> { return this.inner.setFileName(id, fileName); }
  finishJob(id: string, finish: JobFinish): Promise<boolean> { return this.inner.finishJob(id, finish); }
  expiredJobs(nowMs: number): Promise<Job[]> { return this.inner.expiredJobs(nowMs); }
  requestCancel(id: string): Promise<boolean> { return this.inner.requestCancel(id); }
  overlay(type: ResourceType, id: string): Promise<ResourceOverlay> { return this.inner.overlay(type, id); }
  clearStatusOverride(type: ResourceType, id: string): Promise<void> { return this.inner.clearStatusOverride(type, id); }
  ping(): Promise<void> { return this.inner.ping(); }
  subscribe(listener: (event: StoreEvent) => void): () => void { return this.inner.subscribe(listener); }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.inner.close();
  }
}
