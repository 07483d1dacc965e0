import type { JobErrorCode } from '../errors.js';

/** What kind of work a job does. */
export type JobKind = 'volume-export' | 'volume-import' | 'snapshot-export';
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';
export type ResourceType = 'volume' | 'snapshot';

/** Everything a worker needs to run a job without asking Cinder again. */
export interface JobParams {
  /** Volume whose data is read (export) or written (import); the parent volume for a snapshot export. */
  volumeId: string;
  /** For snapshot exports. */
  snapshotId?: string;
  /** Volume size in GiB, from Cinder (a snapshot export uses the snapshot's volume_size). */
  sizeGiB: number;
  /** `os-vol-host-attr:host` of the volume (null when the caller may not see it): picks the backend. */
  host: string | null;
  /** Import: the archive's file name inside the export directory. */
  fileName?: string;
  /** Export: the meta document written as `volume-<id>.meta`. */
  meta?: Record<string, unknown>;
  /** Import: whether the volume is attached (decides `available` vs `in-use` afterwards). */
  attached?: boolean;
}

export interface Job {
  id: string;
  kind: JobKind;
  /** The volume (export/import) or snapshot (snapshot export) the job holds. */
  resourceType: ResourceType;
  resourceId: string;
  projectId: string;
  /** The storage backend (config `backends[].name`) chosen from the volume's host when the job was accepted. */
  backend: string;
  state: JobState;
  params: JobParams;
  /** Export: the archive's final file name once known. */
  fileName: string | null;
  bytesDone: number;
  bytesTotal: number;
  /** Failure reason (already cut to fit backup_status). */
  error: string | null;
  /** The failure's stable code (src/errors.ts JOB_FAILURES), null unless failed. */
  errorCode: JobErrorCode | null;
  requestId: string | null;
  /** The replica running the job (its lease holder), null while queued. */
  owner: string | null;
  /** Last renewal by the owner (ISO time). */
  heartbeatAt: string | null;
  /** The owner's lease ends here unless renewed (ISO time); a sweep fails the job after it. */
  leaseExpiresAt: string | null;
  /** An operator asked for the job to stop; its owner aborts it on its next renewal. */
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NewJob {
  kind: JobKind;
  resourceType: ResourceType;
  resourceId: string;
  projectId: string;
  backend: string;
  params: JobParams;
  bytesTotal: number;
  requestId?: string | null;
}

/** A backup_status write (the rules in rules.ts decide them; the stores write them). */
export interface BackupStatusUpdate {
  resourceType: ResourceType;
  resourceId: string;
  backupStatus: string;
  /** `error` after a failed import, null to clear, undefined to leave as it is. */
  statusOverride?: string | null;
}

/**
 * What the response rewrites lay over a resource Cinder returns.
 * `status` is non-null only while a job holds the resource (exporting/importing) or after a failed import (error).
 */
export interface ResourceOverlay {
  backupStatus: string | null;
  status: string | null;
  /** `"37%"` while a job is queued or running, else null. */
  progress: string | null;
}

export type JobFinish =
  | { state: 'succeeded'; fileName?: string | null; owner?: string }
  | {
    state: 'failed';
    /** The reason (backup_status text after `Reason: `); cut to fit by the store. */
    error: string;
    errorCode: JobErrorCode;
    /** Finish only if this replica still owns the job. */
    owner?: string;
    /** Finish only if the job's lease expired at or before this time (epoch ms): the sweep's guard. */
    leaseExpiredBy?: number;
  };

export interface ListJobsOptions {
  unfinishedOnly?: boolean;
  /** At most this many: the newest ones. */
  limit?: number;
}

export interface Claim {
  owner: string;
  /** Backend names this replica has; only jobs recorded for one of them are claimed. */
  backends: readonly string[];
  leaseMs: number;
}

/** The owner's renewal: extends the lease and records progress in one write. */
export interface Renewal {
  owner: string;
  leaseMs: number;
  bytesDone: number;
  bytesTotal?: number;
}

/** What a renewal found: whether the lease is still held, and whether an operator asked to cancel. */
export interface LeaseState {
  held: boolean;
  cancelRequested: boolean;
}

/** A change another replica (or this one) made, for cache invalidation and waking workers. */
export type StoreEvent =
  | { kind: 'resource'; resourceType: ResourceType; resourceId: string }
  | { kind: 'queued' }
  /** Notifications may have been missed (a reconnect): forget every cached answer. */
  | { kind: 'reset' };

/**
 * The durable store of jobs and backup_status. Implementations: SQLite (embedded, one process) and
 * PostgreSQL (shared by replicas). Every method may reject with a `stateUnavailable` CinderFault when
 * the store cannot be reached.
 */
export interface StateStore {
  /**
   * Record a queued job and the backup_status it starts with, atomically. Returns null (and records nothing)
   * when an unfinished job already holds the same resource or the same volume (a database constraint).
   */
  createJob(job: NewJob): Promise<Job | null>;
  getJob(id: string): Promise<Job | undefined>;
  /** Jobs in the order they were accepted (newest last); `limit` keeps the newest. */
  listJobs(options?: ListJobsOptions): Promise<Job[]>;
  /** The unfinished job that holds this resource, if any (never cached). */
  activeJobFor(resourceType: ResourceType, resourceId: string): Promise<Job | undefined>;
  /** Take the oldest queued job for one of `backends`: running, owned by `owner`, leased for leaseMs. */
  claimNext(claim: Claim): Promise<Job | undefined>;
  /** Extend the owner's lease and record progress; `held: false` when the job is no longer this owner's running job. */
  renewLease(id: string, renewal: Renewal): Promise<LeaseState>;
  setFileName(id: string, fileName: string): Promise<void>;
  /**
   * Finish a job once with its backup_status (rules.ts): true if this call finished it, false if it was
   * already finished or a guard (owner, leaseExpiredBy) did not hold. A queued or running job can finish.
   */
  finishJob(id: string, finish: JobFinish): Promise<boolean>;
  /** Running jobs whose lease ended at or before `nowMs`. */
  expiredJobs(nowMs: number): Promise<Job[]>;
  /**
   * Ask an unfinished job to stop: a queued one is failed at once (`cancelled by operator`), a running one
   * is flagged for its owner. False when the job is unknown or already finished.
   */
  requestCancel(id: string): Promise<boolean>;
  overlay(resourceType: ResourceType, resourceId: string): Promise<ResourceOverlay>;
  /** The overlays of many resources in one read (the rewrite of a detail list); every id is in the map. */
  overlays(resourceType: ResourceType, resourceIds: readonly string[]): Promise<Map<string, ResourceOverlay>>;
  /** Forget a status laid over Cinder's (the `error` of a failed import) once Cinder's own status was reset. */
  clearStatusOverride(resourceType: ResourceType, resourceId: string): Promise<void>;
  /** Resolves when the store answers (for /readyz); rejects with the reason otherwise. */
  ping(): Promise<void>;
  /** Changes seen by this store (PostgreSQL: from every replica). Returns the unsubscribe. */
  subscribe(listener: (event: StoreEvent) => void): () => void;
  close(): Promise<void>;
}

/** A store that keeps overlays in this process's memory (CachedStateStore): the ones it holds, at once. */
export interface OverlayCache {
  /** The overlays of `resourceIds` when every one is held, else undefined (then `overlays` reads). */
  cachedOverlays(resourceType: ResourceType, resourceIds: readonly string[]): Map<string, ResourceOverlay> | undefined;
}

/** The seam between the API and the data work. */
export interface JobEngine {
  /** A job was just recorded: look for work now rather than at the next poll. */
  submit(job: Job): void;
  /** Start working: fail the jobs this replica owned before a restart, clean its temp files, then pull and sweep. */
  recover(): Promise<void>;
  /** Abort a job running in this process (an operator's cancel); false if it does not run here. */
  cancelLocal?(jobId: string): boolean;
  /** Stop taking jobs; let running ones finish within the timeout, then fail them cleanly. */
  shutdown(timeoutMs: number): Promise<void>;
}
