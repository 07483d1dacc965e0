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
  state: JobState;
  params: JobParams;
  /** Export: the archive's final file name once known. */
  fileName: string | null;
  bytesDone: number;
  bytesTotal: number;
  /** Failure reason (already cut to fit backup_status). */
  error: string | null;
  requestId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface NewJob {
  kind: JobKind;
  resourceType: ResourceType;
  resourceId: string;
  projectId: string;
  params: JobParams;
  bytesTotal: number;
  requestId?: string | null;
  /** backup_status strings written in the same transaction as the job (e.g. `Export started at ...`). */
  backupStatus: BackupStatusUpdate[];
}

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

export interface JobFinish {
  state: 'succeeded' | 'failed';
  error?: string | null;
  fileName?: string | null;
  backupStatus: BackupStatusUpdate[];
}

/** The durable store of jobs and backup_status. Implementations: SQLite (embedded), later a shared database. */
export interface StateStore {
  /**
   * Record a job and its backup_status updates atomically. Returns null (and records nothing) when an
   * unfinished job already holds the same resource or, for imports/exports, the same volume.
   */
  createJob(job: NewJob): Job | null;
  getJob(id: string): Job | undefined;
  /** Unfinished jobs in the order they were created. */
  listUnfinished(): Job[];
  /** The unfinished job that holds this resource, if any. */
  activeJobFor(resourceType: ResourceType, resourceId: string): Job | undefined;
  markRunning(id: string): void;
  setProgress(id: string, bytesDone: number, bytesTotal?: number): void;
  setFileName(id: string, fileName: string): void;
  finishJob(id: string, finish: JobFinish): void;
  overlay(resourceType: ResourceType, resourceId: string): ResourceOverlay;
  /** Forget a status laid over Cinder's (the `error` of a failed import) once Cinder's own status was reset. */
  clearStatusOverride(resourceType: ResourceType, resourceId: string): void;
  close(): void;
}

/** The seam between the API and the data work. */
export interface JobEngine {
  /** Start (or queue) a job already recorded in the store. */
  submit(job: Job): void;
  /** Finish every unfinished job left by a previous process as failed, reason `interrupted`; clean temp files. */
  recover(): Promise<void>;
  /** Stop taking jobs; let running ones finish within the timeout, then fail them cleanly. */
  shutdown(timeoutMs: number): Promise<void>;
}
