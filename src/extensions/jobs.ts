import type { CinderSnapshot, CinderVolume } from '../cinder/types.js';
import { GiB } from '../constants.js';
import type { CinderFault } from '../errors.js';
import type { Job, JobParams, NewJob, ResourceType, StateStore } from '../state/types.js';
import type { ActionDeps, ActionResult } from './types.js';

/** The status a client sees: a job in progress (or a failed import) overrides what Cinder says. */
export function effectiveStatus(store: StateStore, type: ResourceType, resource: CinderVolume | CinderSnapshot): string {
  return store.overlay(type, resource.id).status ?? resource.status;
}

/** The project a job records: the URL's, else the one Cinder names (admins see `os-vol-tenant-attr:tenant_id`). */
export function jobProject(projectId: string | null, volume: CinderVolume): string {
  const owner = volume['os-vol-tenant-attr:tenant_id'];
  return projectId ?? (typeof owner === 'string' ? owner : '');
}

/** The job parameters every kind takes from the volume whose data it moves. */
export function volumeParams(volume: CinderVolume, sizeGiB: number = volume.size): JobParams {
  return {
    volumeId: volume.id,
    sizeGiB,
    host: volume['os-vol-host-attr:host'] ?? null,
    attached: Array.isArray(volume.attachments) && volume.attachments.length > 0,
  };
}

export function bytesFor(params: JobParams): number {
  return params.sizeGiB * GiB;
}

/**
 * Record the job and hand it to the engine. `busy` is the fault the caller gets when another job
 * took the resource between the status check and now (the store refuses a second unfinished job).
 */
export function startJob(deps: ActionDeps, job: NewJob, busy: () => CinderFault): Job {
  const created = deps.store.createJob(job);
  if (!created) throw busy();
  deps.engine.submit(created);
  return created;
}

export function accepted(key: string, summary: Record<string, unknown>): ActionResult {
  return { status: 202, body: { [key]: summary } };
}

/** `display_description` as the original named it; modern Cinder calls it `description`. */
export function descriptionOf(resource: { description?: string | null; display_description?: string | null }): string | null {
  return resource.description ?? resource.display_description ?? null;
}
