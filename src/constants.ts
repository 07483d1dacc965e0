/** Numbers several modules share, each defined once (any module may import this file). */

/** Cinder sizes volumes in GiB. */
export const GiB = 1024 * 1024 * 1024;

/** Cinder's backup_status column is String(255): a failure reason is cut to fit it. */
export const BACKUP_STATUS_MAX_CHARS = 255;
