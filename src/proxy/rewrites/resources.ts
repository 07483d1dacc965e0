import { JSONPath } from 'jsonpath-plus';
import { cinderJson } from '../../cinder/json.js';
import type { ResourceOverlay, ResourceType } from '../../state/types.js';
import { NO_OVERLAY } from '../../state/rules.js';
import { decodeString, isStringAt, JsonBytesError, keyIs, scanResources, type ResourceVisitor } from './json-bytes.js';
import { isObject, type Rewrite, type RewriteContext } from './types.js';

/** Words after /volumes/ or /snapshots/ that are not resource ids. */
const NOT_IDS = new Set(['detail', 'summary']);

const PREFIX: Record<ResourceType, string> = { volume: 'wrs-volume', snapshot: 'wrs-snapshot' };

/** GET .../{collection}/detail or GET .../{collection}/{id}; the summary list and sub-resources do not match. */
function isDetailOrShow(ctx: RewriteContext, collection: string): boolean {
  const { version, rest } = ctx.target;
  if (ctx.method !== 'GET' || version === null || rest.length !== 2 || rest[0] !== collection) return false;
  const second = rest[1]!;
  return second === 'detail' || !NOT_IDS.has(second);
}

/** The ids of the resource objects in a parsed answer (what one overlay read fetches). */
function idsOf(items: unknown[]): string[] {
  const ids: string[] = [];
  for (const item of items) if (isObject(item) && typeof item.id === 'string') ids.push(item.id);
  return ids;
}

/**
 * Add `<prefix>:backup_status` (and progress) and lay the job's status over each resource object; the
 * overlays of the whole answer come from one read. Pure without a deep copy (which cost more than the rest
 * of the rewrite on a long list): the top object, the list and each changed resource are new; everything
 * else is shared with the input.
 */
export async function overlayResources(type: ResourceType, body: unknown, ctx: RewriteContext): Promise<unknown> {
  if (!isObject(body)) return body;
  const plural = `${type}s`;
  // detail lists hold `{"volumes": [...]}`, show answers `{"volume": {...}}`; the upstream shape is kept.
  // jsonpath-plus locates the containers; walking each element through it cost more than the overlay itself
  const [list] = JSONPath({ path: `$.${plural}`, json: body, wrap: true }) as unknown[];
  const [single] = JSONPath({ path: `$.${type}`, json: body, wrap: true }) as unknown[];
  const items = [...(Array.isArray(list) ? list : []), ...(single !== undefined ? [single] : [])];
  const ids = idsOf(items);
  const overlays = ids.length > 0 ? await ctx.overlays(type, ids) : new Map<string, ResourceOverlay>();
  const copy: Record<string, unknown> = { ...body };
  if (Array.isArray(list)) copy[plural] = list.map((item) => withOverlay(type, item, overlays, ctx));
  if (single !== undefined) copy[type] = withOverlay(type, single, overlays, ctx);
  return copy;
}

/** The members withOverlay adds or replaces, in the order it adds them. */
function overlayMembers(type: ResourceType, overlay: ResourceOverlay, ctx: RewriteContext): { status: string | null; added: [string, unknown][] } {
  const added: [string, unknown][] = [];
  if (ctx.injectBackupStatus) {
    added.push([`${PREFIX[type]}:backup_status`, overlay.backupStatus]);
    if (overlay.progress !== null) added.push([`${PREFIX[type]}:backup_progress`, overlay.progress]);
  }
  return { status: overlay.status, added };
}

function withOverlay(type: ResourceType, resource: unknown, overlays: Map<string, ResourceOverlay>, ctx: RewriteContext): unknown {
  if (!isObject(resource) || typeof resource.id !== 'string') return resource;
  const { status, added } = overlayMembers(type, overlays.get(resource.id) ?? NO_OVERLAY, ctx);
  const out: Record<string, unknown> = { ...resource };
  if (status !== null) out.status = status;
  for (const [key, value] of added) out[key] = value;
  return out;
}


/** What the scan found in one resource object: where its edits go. */
interface Found { id: string; statusAt: [number, number] | undefined; members: number; lastEnd: number }

/** Replace bytes [at, end) with text. */
interface Edit { at: number; end: number; text: Buffer; separated?: boolean }

/** The answer is valid JSON but a shape the splice would not treat exactly as overlayResources does. */
class NotExact extends Error {}

/**
 * overlayResources done on the answer's bytes: each resource gets its members spliced in after its last one
 * (a status replaced in place), and every other byte is passed on as Cinder wrote it. Parsing and
 * re-serialising a 1,000-volume list cost most of the rewrite's time. Returns undefined where the result
 * could differ from overlayResources' (broken JSON, a key twice, a member it adds already there): the
 * parsed path then runs and decides.
 */
export async function spliceResources(type: ResourceType, bytes: Buffer, ctx: RewriteContext): Promise<Buffer | undefined> {
  const found = scanForSplice(type, bytes);
  if (found === undefined) return undefined;
  if (found.length === 0) return bytes;
  const overlays = await ctx.overlays(type, found.map((f) => f.id));
  // most resources of a long list share one overlay object (none, or the same cached one): its text is made once
  const appendedText = new Map<ResourceOverlay, Buffer>();
  const edits: Edit[] = [];
  for (const f of found) {
    const overlay = overlays.get(f.id) ?? NO_OVERLAY;
    const { status, added } = overlayMembers(type, overlay, ctx);
    if (status !== null && f.statusAt) edits.push({ at: f.statusAt[0], end: f.statusAt[1], text: Buffer.from(cinderJson(status)) });
    // the text depends on whether the resource has a status member of its own: only that common case is kept
    const cacheable = status === null || f.statusAt !== undefined;
    let text = cacheable ? appendedText.get(overlay) : undefined;
    if (text === undefined) {
      const appended = added.map(([key, value]) => `${cinderJson(key)}: ${cinderJson(value)}`);
      if (status !== null && !f.statusAt) appended.unshift(`"status": ${cinderJson(status)}`);
      text = Buffer.from(appended.join(', '));
      if (cacheable) appendedText.set(overlay, text);
    }
    if (text.length) edits.push({ at: f.lastEnd, end: f.lastEnd, text, separated: f.members > 0 });
  }
  return applyEdits(bytes, edits);
}

/** The resource objects of an answer, in byte order; undefined where the splice would not be exact. */
function scanForSplice(type: ResourceType, bytes: Buffer): Found[] | undefined {
  const out: Found[] = [];
  const addedKeys = [`${PREFIX[type]}:backup_status`, `${PREFIX[type]}:backup_progress`];
  // what the scan found in the current resource
  let id: unknown;
  let ids = 0;
  let statusAt: [number, number] | undefined;
  let statuses = 0;
  let members = 0;
  let lastEnd = 0;
  let addsPresent = false;
  const visitor: ResourceVisitor = {
    start(open) {
      id = undefined;
      ids = 0;
      statusAt = undefined;
      statuses = 0;
      members = 0;
      lastEnd = open + 1;
      addsPresent = false;
    },
    member(m) {
      members++;
      lastEnd = m.valueEnd;
      // the keys looked for start with i, s or w (or an escape): most members are passed over here
      const first = bytes[m.keyStart];
      if (first !== 0x69 && first !== 0x73 && first !== 0x77 && first !== 0x5c) return;
      if (keyIs(bytes, m, 'id')) {
        ids++;
        id = isStringAt(bytes, m.valueStart) ? decodeString(bytes, m.valueStart, m.valueEnd) : null;
      } else if (keyIs(bytes, m, 'status')) {
        statuses++;
        statusAt = [m.valueStart, m.valueEnd];
      } else if (keyIs(bytes, m, addedKeys[0]!) || keyIs(bytes, m, addedKeys[1]!)) {
        addsPresent = true;
      }
    },
    end() {
      if (ids > 1 || statuses > 1 || addsPresent) throw new NotExact();
      if (typeof id === 'string') out.push({ id, statusAt, members, lastEnd });
    },
  };
  try {
    const found = scanResources(bytes, { list: `${type}s`, single: type }, visitor);
    // JSON.parse keeps the last of a repeated key; the scan reported every one
    if (found.lists > 1 || found.singles > 1) return undefined;
  } catch (err) {
    // SyntaxError: a key or id with an escape JSON.parse refuses
    if (err instanceof JsonBytesError || err instanceof NotExact || err instanceof SyntaxError) return undefined;
    throw err;
  }
  return out;
}

const SEPARATOR = Buffer.from(', ');

function applyEdits(bytes: Buffer, edits: Edit[]): Buffer {
  if (edits.length === 0) return bytes;
  // the edits are in byte order: one pass made them, each resource's status edit before its additions
  // one output buffer, filled by copies: a Buffer per slice and per insert cost more than the scan
  let size = bytes.length;
  for (const e of edits) size += e.text.length + (e.separated ? SEPARATOR.length : 0) - (e.end - e.at);
  const out = Buffer.allocUnsafe(size);
  let from = 0;
  let to = 0;
  for (const e of edits) {
    to += bytes.copy(out, to, from, e.at);
    if (e.separated) to += SEPARATOR.copy(out, to);
    to += e.text.copy(out, to);
    from = e.end;
  }
  bytes.copy(out, to, from);
  return out;
}

export const volumeOverlay: Rewrite = {
  name: 'volume-overlay',
  matches: (ctx) => isDetailOrShow(ctx, 'volumes'),
  apply: (body, ctx) => overlayResources('volume', body, ctx),
  splice: (bytes, ctx) => spliceResources('volume', bytes, ctx),
};

export const snapshotOverlay: Rewrite = {
  name: 'snapshot-overlay',
  matches: (ctx) => isDetailOrShow(ctx, 'snapshots'),
  apply: (body, ctx) => overlayResources('snapshot', body, ctx),
  splice: (bytes, ctx) => spliceResources('snapshot', bytes, ctx),
};
