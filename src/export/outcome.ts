import { BACKUP_STATUS_MAX_CHARS } from '../constants.js';
import { backupStatusText as text, pythonTimestamp } from '../state/timestamps.js';
import type { BackupStatusUpdate, Job, JobFinish } from '../state/types.js';


/** The backup_status strings a finished job leaves (snapshot exports also mark the parent volume). */
function updates(job: Job, ok: boolean, reason: string): BackupStatusUpdate[] {
  const ts = pythonTimestamp();
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

export function succeeded(job: Job, fileName?: string): JobFinish {
  return { state: 'succeeded', fileName: fileName ?? null, backupStatus: updates(job, true, '') };
}

export function failed(job: Job, reason: string): JobFinish {
  const short = oneLine(reason).slice(0, BACKUP_STATUS_MAX_CHARS);
  return { state: 'failed', error: short, backupStatus: updates(job, false, short) };
}

/** A failure reason fit for one line of backup_status. */
export function oneLine(reason: string): string {
  return reason.replace(/\s+/g, ' ').trim() || 'unknown error';
}

export function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    // "ENOSPC: no space left on device, write" reads better without the syscall
    if (code === 'ENOSPC') return 'no space left on device in the export directory';
    return err.message;
  }
  return String(err);
}
