import type { JobErrorCode } from '../errors.js';
import type { Job, JobFinish, JobKind, JobState, ResourceType } from './types.js';

/** A jobs row as either store returns it (SQLite: integers and JSON text; PostgreSQL: bigint text, jsonb, boolean). */
export interface JobRow {
  id: string; kind: JobKind; resource_type: ResourceType; resource_id: string; project_id: string; backend: string;
  state: JobState; params: string | object; file_name: string | null; bytes_done: number | string; bytes_total: number | string;
  error: string | null; error_code: string | null; request_id: string | null; owner: string | null;
  heartbeat_at: number | string | null; lease_expires_at: number | string | null; cancel_requested: number | boolean;
  created_at: string | Date; started_at: string | Date | null; finished_at: string | Date | null;
}

const iso = (v: string | Date | null): string | null => (v === null ? null : v instanceof Date ? v.toISOString() : v);
const msIso = (v: number | string | null): string | null => (v === null ? null : new Date(Number(v)).toISOString());

export function toJob(row: JobRow): Job {
  return {
    id: row.id, kind: row.kind, resourceType: row.resource_type, resourceId: row.resource_id,
    projectId: row.project_id, backend: row.backend, state: row.state,
    params: typeof row.params === 'string' ? JSON.parse(row.params) : row.params,
    fileName: row.file_name, bytesDone: Number(row.bytes_done), bytesTotal: Number(row.bytes_total),
    error: row.error, errorCode: row.error_code as JobErrorCode | null, requestId: row.request_id,
    owner: row.owner, heartbeatAt: msIso(row.heartbeat_at), leaseExpiresAt: msIso(row.lease_expires_at),
    cancelRequested: row.cancel_requested === true || row.cancel_requested === 1,
    createdAt: iso(row.created_at)!, startedAt: iso(row.started_at), finishedAt: iso(row.finished_at),
  };
}

export const isUnfinished = (job: Pick<Job, 'state'>) => job.state === 'queued' || job.state === 'running';

/** Whether a finish may apply to the job as it is now: once, by its owner if named, after its lease if guarded so. */
export function finishAllowed(job: Job, finish: JobFinish): boolean {
  if (!isUnfinished(job)) return false;
  if (finish.owner !== undefined && job.owner !== finish.owner) return false;
  if (finish.state === 'failed' && finish.leaseExpiredBy !== undefined) {
    const lease = job.leaseExpiresAt === null ? Infinity : Date.parse(job.leaseExpiresAt);
    if (job.state !== 'running' || lease > finish.leaseExpiredBy) return false;
  }
  return true;
}

/** Listeners of store events, told synchronously. */
export class Listeners<E> {
  private readonly set = new Set<(event: E) => void>();
  add(listener: (event: E) => void): () => void {
    this.set.add(listener);
    return () => { this.set.delete(listener); };
  }
  emit(event: E): void {
    for (const l of this.set) l(event);
  }
}
