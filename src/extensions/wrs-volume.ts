import { fault } from '../errors.js';
import { resolveArchivePath } from '../export/archive-path.js';
import { buildExportMeta } from '../export/meta.js';
import { backupStatusText, pythonTimestamp } from '../state/timestamps.js';
import type { CinderVolume } from '../cinder/types.js';
import { accepted, bytesFor, descriptionOf, effectiveStatus, jobProject, startJob, volumeParams } from './jobs.js';
import type { ActionHandler, ActionRequest, Extension } from './types.js';

export const VOLUME_EXPORT = 'wrs-volume:os-volume_export';
export const VOLUME_IMPORT = 'wrs-volume:os-volume_import';

function summary(volume: CinderVolume, status: string): Record<string, unknown> {
  return {
    id: volume.id,
    updated_at: volume.updated_at ?? null,
    status,
    display_description: descriptionOf(volume),
    size: volume.size,
    volume_type: volume.volume_type ?? null,
  };
}

function getVolume(deps: Parameters<ActionHandler>[0], req: ActionRequest): Promise<CinderVolume> {
  return deps.cinder.getVolume(req.projectId, req.resourceId, req.caller);
}

const exportVolume: ActionHandler = async (deps, req) => {
  // the caller's own credentials first: upstream 401/403/404 reach the caller and nothing is recorded
  const volume = await getVolume(deps, req);
  if (effectiveStatus(deps.store, 'volume', volume) !== 'available') throw fault('volumeNotAvailable');
  const params = { ...volumeParams(volume), meta: buildExportMeta(volume) };
  startJob(deps, {
    kind: 'volume-export', resourceType: 'volume', resourceId: volume.id, projectId: jobProject(req.projectId, volume),
    params, bytesTotal: bytesFor(params), requestId: req.caller.requestId,
    backupStatus: [{ resourceType: 'volume', resourceId: volume.id, backupStatus: backupStatusText.exportStarted(pythonTimestamp()) }],
  }, () => fault('volumeNotAvailable'));
  req.logger.info({ volumeId: volume.id }, 'volume export accepted');
  return accepted(VOLUME_EXPORT, summary(volume, 'exporting'));
};

/** The 2015 doc types the value as a string; clients send `{"file_name": ...}`: accept both. */
function fileNameOf(value: unknown): string | undefined {
  const name = typeof value === 'string' ? value
    : value !== null && typeof value === 'object' ? (value as Record<string, unknown>).file_name : undefined;
  return typeof name === 'string' && name.length > 0 ? name : undefined;
}

const importVolume: ActionHandler = async (deps, req) => {
  const fileName = fileNameOf(req.value);
  if (fileName === undefined) throw fault('noFileName');
  const volume = await getVolume(deps, req);
  await resolveArchivePath(deps.config.exportDir, fileName);
  const status = effectiveStatus(deps.store, 'volume', volume);
  if (status !== 'available' && status !== 'error') throw fault('volumeNotAvailableOrError');
  const snapshots = await deps.cinder.listVolumeSnapshots(req.projectId, volume.id, req.caller);
  if (snapshots.length > 0) throw fault('volumeHasSnapshots', { count: snapshots.length });
  const params = { ...volumeParams(volume), fileName };
  startJob(deps, {
    kind: 'volume-import', resourceType: 'volume', resourceId: volume.id, projectId: jobProject(req.projectId, volume),
    params, bytesTotal: bytesFor(params), requestId: req.caller.requestId,
    backupStatus: [{ resourceType: 'volume', resourceId: volume.id, backupStatus: backupStatusText.importStarted(pythonTimestamp()) }],
  }, () => fault('volumeNotAvailableOrError'));
  req.logger.info({ volumeId: volume.id, fileName }, 'volume import accepted');
  return accepted(VOLUME_IMPORT, summary(volume, 'importing'));
};

export const wrsVolume: Extension = {
  description: {
    alias: 'wrs-volume',
    name: 'WrsVolumeExport',
    namespace: 'http://docs.windriver.com/volume/ext/wrs-volume/api/v1.0',
    updated: '2014-08-11T00:00:00+00:00',
    description: 'Enable volume export/import',
    links: [],
  },
  volumeActions: { [VOLUME_EXPORT]: exportVolume, [VOLUME_IMPORT]: importVolume },
  snapshotActions: {},
};
