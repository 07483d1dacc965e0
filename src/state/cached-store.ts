import { LRUCache } from 'lru-cache';
import type { Job, JobFinish, NewJob, ResourceOverlay, ResourceType, StateStore } from './types.js';

/**
 * An LRU of overlays in front of any store, for the response-rewrite hot path. Every write goes
 * through here, so an entry is dropped whenever its resource changes: reads never see stale state
 * from this process. (With a shared database and several replicas, `ttlMs` bounds staleness.)
 */
export class CachedStateStore implements StateStore {
  private readonly cache: LRUCache<string, ResourceOverlay>;

  constructor(private readonly inner: StateStore, maxEntries: number, ttlMs = 0) {
    this.cache = new LRUCache({ max: maxEntries, ...(ttlMs > 0 ? { ttl: ttlMs } : {}) });
  }

  private key(type: ResourceType, id: string): string {
    return `${type}/${id}`;
  }

  private forgetJob(job: Pick<Job, 'resourceType' | 'resourceId'> | undefined): void {
    if (job) this.cache.delete(this.key(job.resourceType, job.resourceId));
  }

  private forgetUpdates(updates: { resourceType: ResourceType; resourceId: string }[]): void {
    for (const u of updates) this.cache.delete(this.key(u.resourceType, u.resourceId));
  }

  createJob(job: NewJob): Job | null {
    const created = this.inner.createJob(job);
    if (created) { this.forgetJob(created); this.forgetUpdates(job.backupStatus); }
    return created;
  }

  getJob(id: string): Job | undefined { return this.inner.getJob(id); }
  listUnfinished(): Job[] { return this.inner.listUnfinished(); }
  activeJobFor(type: ResourceType, id: string): Job | undefined { return this.inner.activeJobFor(type, id); }

  markRunning(id: string): void {
    this.inner.markRunning(id);
    this.forgetJob(this.inner.getJob(id));
  }

  setProgress(id: string, bytesDone: number, bytesTotal?: number): void {
    this.inner.setProgress(id, bytesDone, bytesTotal);
    this.forgetJob(this.inner.getJob(id));
  }

  setFileName(id: string, fileName: string): void { this.inner.setFileName(id, fileName); }

  finishJob(id: string, finish: JobFinish): void {
    this.inner.finishJob(id, finish);
    this.forgetJob(this.inner.getJob(id));
    this.forgetUpdates(finish.backupStatus);
  }

  overlay(type: ResourceType, id: string): ResourceOverlay {
    const key = this.key(type, id);
    let hit = this.cache.get(key);
    if (!hit) { hit = this.inner.overlay(type, id); this.cache.set(key, hit); }
    return hit;
  }

  clearStatusOverride(type: ResourceType, id: string): void {
    this.inner.clearStatusOverride(type, id);
    this.cache.delete(this.key(type, id));
  }

  close(): void { this.inner.close(); }
}
