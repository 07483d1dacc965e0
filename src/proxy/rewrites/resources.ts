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

/** Add `<prefix>:backup_status` (and progress) and lay the job's status over each resource object. */
export function overlayResources(type: ResourceType, body: unknown, ctx: RewriteContext): unknown {
  if (!isObject(body)) return body;
  const copy = structuredClone(body);
  const plural = `${type}s`;
  // detail lists hold `{"volumes": [...]}`, show answers `{"volume": {...}}`; the upstream shape is kept
  const targets = [`$.${plural}[*]`, `$.${type}`].flatMap((path) => JSONPath({ path, json: copy, wrap: true }) as unknown[]);
  for (const resource of targets) {
    if (!isObject(resource) || typeof resource.id !== 'string') continue;
    const overlay = ctx.overlay(type, resource.id);
    if (overlay.status !== null) resource.status = overlay.status;
    if (ctx.injectBackupStatus) {
      resource[`${PREFIX[type]}:backup_status`] = overlay.backupStatus;
      if (overlay.progress !== null) resource[`${PREFIX[type]}:backup_progress`] = overlay.progress;
    }
  }
  return copy;
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
