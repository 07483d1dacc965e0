import { BACKUP_STATUS_MAX_CHARS } from '../constants.js';

/** UTC time in Python's `str(datetime)` form, as the original wrote it: `2015-02-27 16:35:53.545339`. */
export function pythonTimestamp(date: Date = new Date(), microsExtra = 0): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const base = `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  const micros = date.getUTCMilliseconds() * 1000 + microsExtra;
  return micros === 0 ? base : `${base}.${pad(micros, 6)}`;
}

/** `YYYYMMDD-HHMMSS` (UTC) for archive names. */
export function archiveStamp(date: Date = new Date()): string {
  return pythonTimestamp(new Date(Math.floor(date.getTime() / 1000) * 1000)).replace(/[-:]/g, '').replace(' ', '-');
}

/** backup_status strings, each at most 255 characters (the reason is what gets cut). */
export const backupStatusText = {
  exportStarted: (ts: string) => `Export started at ${ts}`,
  exportCompleted: (ts: string) => `Export completed at ${ts}`,
  exportFailed: (ts: string, reason: string) => withReason(`Export failed at ${ts}. Reason: `, reason),
  importStarted: (ts: string) => `Import started at ${ts}`,
  importCompleted: (ts: string) => `Import completed at ${ts}`,
  importFailed: (ts: string, reason: string) => withReason(`Import failed at ${ts}. Reason: `, reason),
  snapshotExportStarted: (ts: string) => `Snapshot export started at ${ts}`,
  snapshotExportCompleted: (ts: string) => `Snapshot export completed at ${ts}`,
  snapshotExportFailed: (ts: string, reason: string) => withReason(`Snapshot export failed at ${ts}. Reason: `, reason),
};

function withReason(prefix: string, reason: string): string {
  return (prefix + reason).slice(0, BACKUP_STATUS_MAX_CHARS);
}
