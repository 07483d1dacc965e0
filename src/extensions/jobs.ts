import type { CinderSnapshot, CinderVolume } from '../cinder/types.js';
import { GiB } from '../constants.js';
import type { CinderFault } from '../errors.js';
import { chooseBackend } from '../export/backends/index.js';
import type { Job, JobParams, NewJob, ResourceType, StateStore } from '../state/types.js';
import type { ActionDeps, ActionResult } from './types.js';

/** The status a client sees: a job in progress (or a failed import) overrides what Cinder says. Read fresh, never cached. */
export async function effectiveStatus(store: StateStore, type: ResourceType, resource: CinderVolume | CinderSnapshot): Promise<string> {
  return (await store.overlay(type, resource.id)).status ?? resource.status;
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
 * Record the job (with the backend its volume's host picks) and wake the engine; any replica with that
 * backend may run it. `busy` is the fault the caller gets when another job took the volume between the
 * status check and now (the store refuses a second unfinished job).
 */
export async function startJob(deps: ActionDeps, job: Omit<NewJob, 'backend'>, busy: () => CinderFault): Promise<Job> {
  const created = await deps.store.createJob({ ...job, backend: chooseBackend(deps.config, job.params.host) });
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
