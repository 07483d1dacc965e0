import { fault } from '../errors.js';
import { buildExportMeta } from '../export/meta.js';
import { backupStatusText, pythonTimestamp } from '../state/timestamps.js';
import { accepted, bytesFor, descriptionOf, effectiveStatus, jobProject, startJob, volumeParams } from './jobs.js';
import type { ActionHandler, Extension } from './types.js';

/** What clients send; the doc's request table says `os-snapshot_export`: both are accepted. */
export const SNAPSHOT_EXPORT = 'wrs-snapshot:os-export_snapshot';
export const SNAPSHOT_EXPORT_ALT = 'wrs-snapshot:os-snapshot_export';

const exportSnapshot: ActionHandler = async (deps, req) => {
  const snapshot = await deps.cinder.getSnapshot(req.projectId, req.resourceId, req.caller);
  if (effectiveStatus(deps.store, 'snapshot', snapshot) !== 'available') throw fault('snapshotNotAvailable');
  // the archive carries the parent volume's metadata so it can be imported into that volume
  const volume = await deps.cinder.getVolume(req.projectId, snapshot.volume_id, req.caller);
  const params = { ...volumeParams(volume, snapshot.size), snapshotId: snapshot.id, meta: buildExportMeta(volume) };
  const ts = pythonTimestamp();
  startJob(deps, {
    kind: 'snapshot-export', resourceType: 'snapshot', resourceId: snapshot.id, projectId: jobProject(req.projectId, volume),
    params, bytesTotal: bytesFor(params), requestId: req.caller.requestId,
    backupStatus: [
      { resourceType: 'snapshot', resourceId: snapshot.id, backupStatus: backupStatusText.exportStarted(ts) },
      { resourceType: 'volume', resourceId: volume.id, backupStatus: backupStatusText.snapshotExportStarted(ts) },
    ],
  }, () => fault('snapshotNotAvailable'));
  req.logger.info({ snapshotId: snapshot.id, volumeId: volume.id }, 'snapshot export accepted');
  return accepted(SNAPSHOT_EXPORT, {
    id: snapshot.id,
    updated_at: snapshot.updated_at ?? null,
    status: 'exporting',
    display_description: descriptionOf(snapshot),
    volume_size: snapshot.size,
    volume_type: volume.volume_type ?? null,
  });
};

export const wrsSnapshot: Extension = {
  description: {
    alias: 'wrs-snapshot',
    name: 'WrsSnapshotExportAction',
    namespace: 'http://docs.windriver.com/volume/ext/wrs-snapshot/api/v1.0',
    updated: '2014-08-16T00:00:00+00:00',
    description: 'Enable snapshot export to file',
    links: [],
  },
  volumeActions: {},
  snapshotActions: { [SNAPSHOT_EXPORT]: exportSnapshot, [SNAPSHOT_EXPORT_ALT]: exportSnapshot },
};
