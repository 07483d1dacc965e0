import { JSONPath } from 'jsonpath-plus';
import { cinderJson } from '../../cinder/json.js';
import type { ResourceOverlay, ResourceType } from '../../state/types.js';
import { NO_OVERLAY } from '../../state/rules.js';
import { decodeString, isStringAt, JsonBytesError, READ_THE_KEY, ResourceScanner, type ResourceNames } from './json-bytes.js';
import { isObject, type Rewrite, type RewriteContext, type Splicer } from './types.js';

/** Words after /volumes/ or /snapshots/ that are not resource ids. */
const NOT_IDS = new Set(['detail', 'summary']);

const PREFIX: Record<ResourceType, string> = { volume: 'wrs-volume', snapshot: 'wrs-snapshot' };

/** The members the overlay adds to a resource of each type (the parsed path and the splice alike). */
const addedKeys = (type: ResourceType) => ({ backupStatus: `${PREFIX[type]}:backup_status`, progress: `${PREFIX[type]}:backup_progress` });
const ADDED_KEYS: Record<ResourceType, { backupStatus: string; progress: string }> = { volume: addedKeys('volume'), snapshot: addedKeys('snapshot') };

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
    added.push([ADDED_KEYS[type].backupStatus, overlay.backupStatus]);
    if (overlay.progress !== null) added.push([ADDED_KEYS[type].progress, overlay.progress]);
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


/** What a splicer of each type scans for; the scan names each member by its key's index in `keys`. */
function spliceNames(type: ResourceType): ResourceNames {
  return { list: `${type}s`, single: type, keys: ['id', 'status', ADDED_KEYS[type].backupStatus, ADDED_KEYS[type].progress] };
}
const SPLICE_NAMES: Record<ResourceType, ResourceNames> = { volume: spliceNames('volume'), snapshot: spliceNames('snapshot') };

/**
 * The texts an overlay writes, made once per overlay object and kept while it lives: most answers carry
 * the same few overlays (none, or a cached one), and making the text again for each answer was a
 * measurable part of a short answer's splice.
 * Which text depends only on the overlay, whether backup_status is injected and whether the resource has a
 * status member of its own; an overlay object never changes (a change is a new one).
 */
const OVERLAY_TEXTS: Record<ResourceType, WeakMap<ResourceOverlay, (OverlayText | undefined)[]>> = {
  volume: new WeakMap(), snapshot: new WeakMap(),
};

/** What the scan found in one resource object: where its edits go. */
interface Found { id: string; /** -1: the resource has no status member. */ statusStart: number; statusEnd: number; members: number; lastEnd: number }

/** Replace bytes [at, end) with text. */
interface Edit { at: number; end: number; text: Buffer }

/** What one overlay writes into a resource: its status value (when the resource has one to replace) and the members after the last. */
interface OverlayText { status: Buffer | null; appended: Buffer; appendedAfterMember: Buffer }

/** The answer is valid JSON but a shape the splice would not treat exactly as overlayResources does. */
class NotExact extends Error {}

/**
 * overlayResources done on the answer's bytes: each resource gets its members spliced in after its last one
 * (a status replaced in place), and every other byte is passed on as Cinder wrote it. Parsing and
 * re-serialising a 1,000-volume list cost most of the rewrite's time. The answer is read as it arrives
 * (`feed`), so only the overlay read and the edits wait for its last byte. `finish` gives undefined where
 * the result could differ from overlayResources' (broken JSON, a key twice, a member it adds already there):
 * the parsed path then runs and decides.
 */
class ResourceSplicer implements Splicer {
  private readonly found: Found[] = [];
  private readonly scanner: ResourceScanner;
  /** Why the splice cannot be exact (or the error the scan met): set once, then the rest is not read. */
  private declined: unknown = undefined;
  // what the scan found in the current resource
  private id: unknown;
  private ids = 0;
  private statusStart = -1;
  private statusEnd = -1;
  private statuses = 0;
  private addsPresent = false;

  constructor(private readonly type: ResourceType, private readonly ctx: RewriteContext) {
    const names = SPLICE_NAMES[type];
    const keys = names.keys!;
    this.scanner = new ResourceScanner(names, {
      start: () => {
        this.id = undefined;
        this.ids = 0;
        this.statusStart = -1;
        this.statuses = 0;
        this.addsPresent = false;
      },
      member: (b, m, key) => {
        // a key with an escape is read here; it may stand for none of them
        const which = key === READ_THE_KEY ? keys.indexOf(decodeString(b, m.keyStart - 1, m.keyEnd + 1)) : key;
        if (which === 0) {
          this.ids++;
          this.id = isStringAt(b, m.valueStart) ? decodeString(b, m.valueStart, m.valueEnd) : null;
        } else if (which === 1) {
          this.statuses++;
          this.statusStart = m.valueStart;
          this.statusEnd = m.valueEnd;
        } else if (which > 1) {
          this.addsPresent = true;
        }
      },
      end: (_close, members, lastEnd) => {
        if (this.ids > 1 || this.statuses > 1 || this.addsPresent) throw new NotExact();
        if (typeof this.id === 'string') this.found.push({ id: this.id, statusStart: this.statusStart, statusEnd: this.statusEnd, members, lastEnd });
      },
    });
  }

  feed(bytesSoFar: Buffer): void {
    if (this.declined !== undefined) return;
    try {
      this.scanner.feed(bytesSoFar);
    } catch (err) {
      this.declined = err;
    }
  }

  finish(bytes: Buffer, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer | undefined | Promise<Buffer | undefined> {
    const found = this.scanAll(bytes);
    if (found === undefined) return undefined;
    if (found.length === 0) return bytes;
    const ids = found.map((f) => f.id);
    const splice = (overlays: Map<string, ResourceOverlay>) => applyEdits(bytes, this.edits(found, overlays), allocate);
    const cached = this.ctx.cachedOverlays?.(this.type, ids);
    return cached ? splice(cached) : this.ctx.overlays(this.type, ids).then(splice);
  }

  /** The resource objects of the answer, in byte order; undefined where the splice would not be exact. */
  private scanAll(bytes: Buffer): Found[] | undefined {
    try {
      if (this.declined !== undefined) throw this.declined;
      const found = this.scanner.finish(bytes);
      // JSON.parse keeps the last of a repeated key; the scan reported every one
      if (found.lists > 1 || found.singles > 1) return undefined;
    } catch (err) {
      // SyntaxError: a key or id with an escape JSON.parse refuses
      if (err instanceof JsonBytesError || err instanceof NotExact || err instanceof SyntaxError) return undefined;
      throw err;
    }
    return this.found;
  }

  private edits(found: Found[], overlays: Map<string, ResourceOverlay>): Edit[] {
    const texts = OVERLAY_TEXTS[this.type];
    const injected = this.ctx.injectBackupStatus ? 2 : 0;
    const edits: Edit[] = [];
    for (const f of found) {
      const overlay = overlays.get(f.id) ?? NO_OVERLAY;
      const hasStatus = f.statusStart >= 0;
      let kinds = texts.get(overlay);
      if (kinds === undefined) texts.set(overlay, kinds = []);
      const kind = injected + (hasStatus ? 1 : 0);
      const text = kinds[kind] ??= this.textOf(overlay, hasStatus);
      if (text.status) edits.push({ at: f.statusStart, end: f.statusEnd, text: text.status });
      const appended = f.members > 0 ? text.appendedAfterMember : text.appended;
      if (appended.length) edits.push({ at: f.lastEnd, end: f.lastEnd, text: appended });
    }
    return edits;
  }

  private textOf(overlay: ResourceOverlay, hasStatus: boolean): OverlayText {
    const { status, added } = overlayMembers(this.type, overlay, this.ctx);
    const members = added.map(([key, value]) => `${cinderJson(key)}: ${cinderJson(value)}`);
    if (status !== null && !hasStatus) members.unshift(`"status": ${cinderJson(status)}`);
    const appended = members.join(', ');
    return {
      status: status !== null && hasStatus ? Buffer.from(cinderJson(status)) : null,
      appended: Buffer.from(appended),
      appendedAfterMember: Buffer.from(appended === '' ? '' : `, ${appended}`),
    };
  }
}

/** Texts up to this length are copied byte by byte: Buffer.copy's own cost is more than such a copy. */
const SHORT_TEXT = 64;

function applyEdits(bytes: Buffer, edits: Edit[], allocate: (size: number) => Buffer): Buffer {
  if (edits.length === 0) return bytes;
  // the edits are in byte order: one pass made them, each resource's status edit before its additions
  // one output buffer, filled by copies: a Buffer per slice and per insert cost more than the scan
  let size = bytes.length;
  for (const e of edits) size += e.text.length - (e.end - e.at);
  const out = allocate(size).subarray(0, size);
  let from = 0;
  let to = 0;
  for (const e of edits) {
    to += bytes.copy(out, to, from, e.at);
    const text = e.text;
    if (text.length <= SHORT_TEXT) {
      for (let k = 0; k < text.length; k++) out[to + k] = text[k]!;
      to += text.length;
    } else {
      to += text.copy(out, to);
    }
    from = e.end;
  }
  bytes.copy(out, to, from);
  return out;
}

export const volumeOverlay: Rewrite = {
  name: 'volume-overlay',
  matches: (ctx) => isDetailOrShow(ctx, 'volumes'),
  apply: (body, ctx) => overlayResources('volume', body, ctx),
  splicer: (ctx) => new ResourceSplicer('volume', ctx),
};

export const snapshotOverlay: Rewrite = {
  name: 'snapshot-overlay',
  matches: (ctx) => isDetailOrShow(ctx, 'snapshots'),
  apply: (body, ctx) => overlayResources('snapshot', body, ctx),
  splicer: (ctx) => new ResourceSplicer('snapshot', ctx),
};
