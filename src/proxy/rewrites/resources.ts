import { JSONPath } from 'jsonpath-plus';
import type { ResourceType } from '../../state/types.js';
import { isObject, type Rewrite, type RewriteContext } from './types.js';

/** Words after /volumes/ or /snapshots/ that are not resource ids. */
const NOT_IDS = new Set(['detail', 'summary']);

const PREFIX: Record<ResourceType, string> = { volume: 'wrs-volume', snapshot: 'wrs-snapshot' };

/** GET .../{collection}/detail or GET .../{collection}/{id}; the summary list and sub-resources do not match. */
function isDetailOrShow(ctx: RewriteContext, collection: string): boolean {
  const rest = ctx.api?.rest;
  if (ctx.method !== 'GET' || !rest || rest.length !== 2 || rest[0] !== collection) return false;
  const second = rest[1]!;
  return second === 'detail' || !NOT_IDS.has(second);
}

/**
 * Add `<prefix>:backup_status` (and progress) and lay the job's status over each resource object.
 * Pure without a deep copy (which cost more than the rest of the rewrite on a long list): the top object,
 * the list and each changed resource are new; everything else is shared with the input.
 */
export function overlayResources(type: ResourceType, body: unknown, ctx: RewriteContext): unknown {
  if (!isObject(body)) return body;
  const plural = `${type}s`;
  // detail lists hold `{"volumes": [...]}`, show answers `{"volume": {...}}`; the upstream shape is kept.
  // jsonpath-plus locates the containers; walking each element through it cost more than the overlay itself
  const [list] = JSONPath({ path: `$.${plural}`, json: body, wrap: true }) as unknown[];
  const [single] = JSONPath({ path: `$.${type}`, json: body, wrap: true }) as unknown[];
  const copy: Record<string, unknown> = { ...body };
  if (Array.isArray(list)) copy[plural] = list.map((item) => withOverlay(type, item, ctx));
  if (single !== undefined) copy[type] = withOverlay(type, single, ctx);
  return copy;
}

function withOverlay(type: ResourceType, resource: unknown, ctx: RewriteContext): unknown {
  if (!isObject(resource) || typeof resource.id !== 'string') return resource;
  const overlay = ctx.overlay(type, resource.id);
  const out: Record<string, unknown> = { ...resource };
  if (overlay.status !== null) out.status = overlay.status;
  if (ctx.injectBackupStatus) {
    out[`${PREFIX[type]}:backup_status`] = overlay.backupStatus;
    if (overlay.progress !== null) out[`${PREFIX[type]}:backup_progress`] = overlay.progress;
  }
  return out;
}

export const volumeOverlay: Rewrite = {
  name: 'volume-overlay',
  matches: (ctx) => isDetailOrShow(ctx, 'volumes'),
  apply: (body, ctx) => overlayResources('volume', body, ctx),
};

export const snapshotOverlay: Rewrite = {
  name: 'snapshot-overlay',
  matches: (ctx) => isDetailOrShow(ctx, 'snapshots'),
  apply: (body, ctx) => overlayResources('snapshot', body, ctx),
};
