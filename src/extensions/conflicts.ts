import { fault, type CinderFault } from '../errors.js';
import { canonicalId } from '../cinder/path.js';
import type { CallerContext, CinderSnapshot, CinderVolume } from '../cinder/types.js';
import type { ResourceType } from '../state/types.js';
import type { ActionDeps } from './types.js';

/**
 * Calls Cinder would refuse for a volume whose status were `exporting`/`importing`. Cinder never sees
 * that status (the job lives in the proxy), so the proxy answers with Cinder's own InvalidVolume /
 * InvalidSnapshot messages, quoted from cinder/volume/api.py (Zed). `status` is the status the
 * client sees (exporting/importing).
 */
type Refusal = (resource: { id: string; multiattach?: unknown }, status: string) => CinderFault;

const invalidVolume = (reason: string) => fault('invalidVolume', { reason });

/** `utils.build_or_str` */
const orList = (items: string[]) => items.join(' or ');

/** reserve_volume(); attach and initialize_connection come after a reserve a held volume cannot pass. */
const reserve: Refusal = (v, status) =>
  invalidVolume(`Volume status must be ${orList(v.multiattach === true ? ['available', 'in-use'] : ['available'])} ` +
    `to reserve, but the status is ${status}.`);

/** delete() without force (also unmanage, which is a delete that keeps the data). */
const deleteVolume: Refusal = () =>
  invalidVolume(`Volume status must be ${orList(['available', 'error', 'error_restoring', 'error_extending', 'error_managing'])} ` +
    'and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, ' +
    'or be disassociated from snapshots after volume transfer.');

/** Volume actions (body key) that Cinder refuses unless the volume is available (or in-use). */
const VOLUME_ACTIONS: Record<string, Refusal> = {
  'os-reserve': reserve,
  'os-attach': reserve,
  'os-initialize_connection': reserve,
  'os-extend': (v, status) => invalidVolume(`Volume ${v.id} status must be '{'status': 'available'}' to extend, currently ${status}.`),
  'os-retype': () => invalidVolume('Retype needs volume to be in available or in-use state, not be part of an active ' +
    'migration or a consistency group, requested type has to be different that the one from the volume, and for ' +
    'in-use volumes front-end qos specs cannot change.'),
  'os-migrate_volume': (v) => invalidVolume(`Volume ${v.id} status must be available or in-use, must not be migrating, ` +
    'have snapshots, be replicated, be part of a group and destination host/cluster must be different than the current one'),
  // force uploads are ignored with Cinder's default enable_force_upload = False
  'os-volume_upload_image': (v) => invalidVolume(`Volume ${v.id} status must be available`),
  'os-begin_detaching': () => invalidVolume("Unable to detach volume. Volume status must be 'in-use' and attach_status " +
    "must be 'attached' to detach."),
  'os-reimage': (v, status) => invalidVolume(`Volume ${v.id} status must be ${orList(['available', 'error'])}, but current ` +
    `status is ${status}.`),
  'os-unmanage': deleteVolume,
};

/** oslo bool_from_string, as Cinder reads `force`. */
function truthy(value: unknown): boolean {
  return value === true || (typeof value === 'string' && ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.trim().toLowerCase()));
}

function field(body: unknown, outer: string, inner: string): unknown {
  const o = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)[outer] : undefined;
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[inner] : undefined;
}

/** A call that may conflict with a job: which resource it touches and what Cinder would answer. */
export interface ConflictCheck {
  resourceType: ResourceType;
  resourceId: string;
  refusal: Refusal;
}

export function volumeActionConflict(volumeId: string, body: Record<string, unknown>): ConflictCheck | undefined {
  if (Object.hasOwn(body, 'revert')) {
    // revert_to_snapshot() writes the whole volume from its snapshot
    const snapshotId = String(field(body, 'revert', 'snapshot_id') ?? '');
    return { resourceType: 'volume', resourceId: volumeId, refusal: (v) => invalidVolume(`Can't revert volume ${v.id} to its ` +
      `latest snapshot ${snapshotId}. Volume's status must be 'available'.`) };
  }
  const key = Object.keys(body).find((k) => Object.hasOwn(VOLUME_ACTIONS, k));
  return key ? { resourceType: 'volume', resourceId: volumeId, refusal: VOLUME_ACTIONS[key]! } : undefined;
}

/** A request body naming a volume the call would read or write: its check, when it names one. */
function bodyVolume(body: Record<string, unknown>, outer: string, inner: string, refusal: Refusal): ConflictCheck | undefined {
  const volumeId = field(body, outer, inner);
  return typeof volumeId === 'string' ? { resourceType: 'volume', resourceId: volumeId, refusal } : undefined;
}

/** create() of a clone: _extract_source_volume() of cinder/volume/flows/api/create_volume.py. */
export function volumeCreateConflict(body: Record<string, unknown>): ConflictCheck | undefined {
  return bodyVolume(body, 'volume', 'source_volid',
    () => invalidVolume("Originating source volume status must be one of 'available, in-use' values"));
}

/** backup create() (cinder/backup/api.py). */
export function backupCreateConflict(body: Record<string, unknown>): ConflictCheck | undefined {
  return bodyVolume(body, 'backup', 'volume_id',
    (_, status) => invalidVolume(`Volume to be backed up must be available or in-use, but the current status is "${status}".`));
}

/** backup restore() into an existing volume: a second writer. */
export function backupRestoreConflict(body: Record<string, unknown>): ConflictCheck | undefined {
  return bodyVolume(body, 'restore', 'volume_id', () => invalidVolume('Volume to be restored to must be available'));
}

export function volumeDeleteConflict(volumeId: string): ConflictCheck {
  return { resourceType: 'volume', resourceId: volumeId, refusal: deleteVolume };
}

/** Whether the caller asked for at least microversion `major.minor` (`OpenStack-API-Version: volume 3.66`, or `latest`). */
export function microversionAtLeast(header: string | string[] | undefined, minor: number): boolean {
  const value = (Array.isArray(header) ? header[0] : header)?.trim().toLowerCase() ?? '';
  const m = /^volume\s+(latest|3\.(\d+))$/.exec(value);
  return m !== null && (m[1] === 'latest' || Number(m[2]) >= minor);
}

/** create_snapshot_in_db(): `force`, or microversion 3.66 (allow_in_use), also admits in-use. */
export function snapshotCreateConflict(body: Record<string, unknown>, apiVersionHeader?: string | string[]): ConflictCheck | undefined {
  const volumeId = field(body, 'snapshot', 'volume_id');
  if (typeof volumeId !== 'string') return undefined;
  const force = truthy(field(body, 'snapshot', 'force')) || microversionAtLeast(apiVersionHeader, 66);
  return {
    resourceType: 'volume', resourceId: volumeId,
    refusal: (v, status) => invalidVolume(`Volume ${v.id} status must be ${force ? 'available, in-use' : 'available'}, ` +
      `but current status is: ${status}.`),
  };
}

/** delete_snapshot() without force. */
export function snapshotDeleteConflict(snapshotId: string): ConflictCheck {
  return {
    resourceType: 'snapshot', resourceId: snapshotId,
    refusal: () => fault('invalidSnapshot', { reason: 'Snapshot status must be available or error and must not be part of a group.' }),
  };
}

/** _attachment_reserve() (v3 attachments API). */
export function attachmentCreateConflict(body: Record<string, unknown>): ConflictCheck | undefined {
  return bodyVolume(body, 'attachment', 'volume_uuid', (v, status) => invalidVolume(`Volume ${v.id} status must be ` +
    `${orList(v.multiattach === true ? ['available', 'in-use', 'downloading'] : ['available', 'downloading'])} ` +
    `to reserve, but the current status is ${status}.`));
}

/** Held ids are Cinder's UUIDs: a segment that is not one (in canonical form) cannot name a held resource. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Any change the proxy does not understand, on a held volume or snapshot: refused rather than let through. */
const unknownChange = (type: ResourceType): Refusal => (r, status) => fault(type === 'volume' ? 'invalidVolume' : 'invalidSnapshot', {
  reason: `${type === 'volume' ? 'Volume' : 'Snapshot'} ${r.id} is ${status}: this request is not accepted until that ends.`,
});

/**
 * A mutating request the route table does not know (an unknown sub-resource, a trailing slash, a method taken
 * from a form body): every path segment that could name a volume or a snapshot is checked.
 */
export function unknownMutationConflicts(rest: readonly string[]): ConflictCheck[] {
  const ids = [...new Set(rest.map(canonicalId).filter((s) => UUID.test(s)))];
  return ids.flatMap((id) => (['volume', 'snapshot'] as const).map((type) => ({ resourceType: type, resourceId: id, refusal: unknownChange(type) })));
}

/**
 * Refuse the call if a job holds its resource. The caller's own credentials are checked with Cinder
 * first, so a caller who may not see the volume gets Cinder's 401/403/404, not our 400.
 * Returns normally when nothing holds the resource (the call goes upstream).
 */
export async function refuseIfHeld(
  deps: Pick<ActionDeps, 'store' | 'cinder'>, projectId: string | null, caller: CallerContext,
  check: ConflictCheck | readonly ConflictCheck[] | undefined,
): Promise<void> {
  const checks: readonly ConflictCheck[] = check === undefined ? [] : 'refusal' in check ? [check] : check;
  for (const one of checks) {
    // ids as Cinder's database compares them (MySQL: case and trailing spaces ignored)
    const job = await deps.store.activeJobFor(one.resourceType, canonicalId(one.resourceId));
    if (!job) continue;
    const resource: CinderVolume | CinderSnapshot = one.resourceType === 'volume'
      ? await deps.cinder.getVolume(projectId, one.resourceId, caller)
      : await deps.cinder.getSnapshot(projectId, one.resourceId, caller);
    const status = (await deps.store.overlay(one.resourceType, resource.id)).status ?? resource.status;
    throw one.refusal(resource, status);
  }
}
