import { BACKUP_STATUS_MAX_CHARS } from '../constants.js';
import { backupStatusText as text, pythonTimestamp } from './timestamps.js';
import type { BackupStatusUpdate, Job, JobFinish, JobKind, NewJob, ResourceOverlay } from './types.js';

/**
 * The rules of jobs and backup_status, once, for every store: the SQL stores and constrains, these decide
 * what a job shows and writes.
 */

/** The status a resource shows while a job of this kind holds it. */
export function activeStatus(kind: JobKind): string {
  return kind === 'volume-import' ? 'importing' : 'exporting';
}

export function progressText(done: number, total: number): string {
  if (total <= 0) return '0%';
  return `${Math.min(100, Math.floor((done * 100) / total))}%`;
}

/** A failure reason fit for one line of backup_status. */
export function oneLine(reason: string): string {
  return reason.replace(/\s+/g, ' ').trim().slice(0, BACKUP_STATUS_MAX_CHARS) || 'unknown error';
}

/** The backup_status a job writes when it is accepted. */
export function startUpdates(job: Pick<NewJob, 'kind' | 'resourceId' | 'params'>, now: Date): BackupStatusUpdate[] {
  const ts = pythonTimestamp(now);
  switch (job.kind) {
    case 'volume-export':
      return [{ resourceType: 'volume', resourceId: job.resourceId, backupStatus: text.exportStarted(ts) }];
    case 'volume-import':
      return [{ resourceType: 'volume', resourceId: job.resourceId, backupStatus: text.importStarted(ts) }];
    case 'snapshot-export':
      return [
        { resourceType: 'snapshot', resourceId: job.resourceId, backupStatus: text.exportStarted(ts) },
        { resourceType: 'volume', resourceId: job.params.volumeId, backupStatus: text.snapshotExportStarted(ts) },
      ];
  }
}

/** The backup_status a finished job leaves (a snapshot export also marks the parent volume; a failed import leaves `error`). */
export function finishUpdates(job: Pick<Job, 'kind' | 'resourceId' | 'params'>, finish: JobFinish, now: Date): BackupStatusUpdate[] {
  const ts = pythonTimestamp(now);
  const ok = finish.state === 'succeeded';
  const reason = finish.state === 'failed' ? oneLine(finish.error) : '';
  switch (job.kind) {
    case 'volume-export':
      return [{ resourceType: 'volume', resourceId: job.resourceId,
        backupStatus: ok ? text.exportCompleted(ts) : text.exportFailed(ts, reason) }];
    case 'volume-import':
      return [{ resourceType: 'volume', resourceId: job.resourceId,
        backupStatus: ok ? text.importCompleted(ts) : text.importFailed(ts, reason), statusOverride: ok ? null : 'error' }];
    case 'snapshot-export':
      return [
        { resourceType: 'snapshot', resourceId: job.resourceId,
          backupStatus: ok ? text.exportCompleted(ts) : text.exportFailed(ts, reason) },
        { resourceType: 'volume', resourceId: job.params.volumeId,
          backupStatus: ok ? text.snapshotExportCompleted(ts) : text.snapshotExportFailed(ts, reason) },
      ];
  }
}

/** What a resource shows: the job holding it (status, progress) over the saved backup_status and override. */
/** The overlay of a resource the store knows nothing about: one shared object (a rewrite makes its text once). */
export const NO_OVERLAY: ResourceOverlay = Object.freeze({ backupStatus: null, status: null, progress: null });

export function overlayOf(
  saved: { backupStatus: string; statusOverride: string | null } | undefined,
  active: Pick<Job, 'kind' | 'bytesDone' | 'bytesTotal'> | undefined,
): ResourceOverlay {
  if (!saved && !active) return NO_OVERLAY;
  return {
    backupStatus: saved?.backupStatus ?? null,
    status: active ? activeStatus(active.kind) : (saved?.statusOverride ?? null),
    progress: active ? progressText(active.bytesDone, active.bytesTotal) : null,
  };
}

/** The volume a job holds (a snapshot export holds its parent): the key of "one unfinished job per volume". */
export function heldVolume(job: Pick<NewJob, 'params'>): string {
  return job.params.volumeId;
}
