/**
 * The route table: which requests the proxy looks at itself. Everything else is `forward`.
 * Each entry says whether its (small, JSON) body is buffered for inspection.
 */
export type RouteKind =
  | 'extension-show'
  | 'volume-action'
  | 'snapshot-action'
  | 'volume-delete'
  | 'snapshot-create'
  | 'snapshot-delete'
  | 'attachment-create'
  | 'forward';

export interface RouteMatch {
  kind: RouteKind;
  apiVersion: 'v2' | 'v3';
  projectId: string;
  /** Volume or snapshot id, or extension alias. */
  id?: string;
  /** The body is read (with the size limit) before anything else. */
  buffersBody: boolean;
}

const SEG = '([^/]+)';
const TABLE: { method: string; pattern: RegExp; kind: Exclude<RouteKind, 'forward'>; buffersBody: boolean }[] = [
  { method: 'GET', pattern: new RegExp(`^/(v2|v3)/${SEG}/extensions/${SEG}$`), kind: 'extension-show', buffersBody: false },
  { method: 'POST', pattern: new RegExp(`^/(v2|v3)/${SEG}/volumes/${SEG}/action$`), kind: 'volume-action', buffersBody: true },
  { method: 'POST', pattern: new RegExp(`^/(v2|v3)/${SEG}/snapshots/${SEG}/action$`), kind: 'snapshot-action', buffersBody: true },
  { method: 'DELETE', pattern: new RegExp(`^/(v2|v3)/${SEG}/volumes/${SEG}$`), kind: 'volume-delete', buffersBody: false },
  { method: 'POST', pattern: new RegExp(`^/(v2|v3)/${SEG}/snapshots$`), kind: 'snapshot-create', buffersBody: true },
  { method: 'DELETE', pattern: new RegExp(`^/(v2|v3)/${SEG}/snapshots/${SEG}$`), kind: 'snapshot-delete', buffersBody: false },
  { method: 'POST', pattern: new RegExp(`^/(v3)/${SEG}/attachments$`), kind: 'attachment-create', buffersBody: true },
];

const FORWARD: RouteMatch = { kind: 'forward', apiVersion: 'v3', projectId: '', buffersBody: false };

function decode(segment: string): string | undefined {
  try { return decodeURIComponent(segment); } catch { return undefined; }
}

/** Classify a request by method and raw URL (query string ignored, one trailing slash tolerated). */
export function classify(method: string | undefined, url: string | undefined): RouteMatch {
  let path = (url ?? '/').split('?', 1)[0]!;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  for (const route of TABLE) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const projectId = decode(m[2]!);
    const id = m[3] === undefined ? undefined : decode(m[3]);
    // a segment that does not decode is not a resource we know: let Cinder answer it
    if (projectId === undefined || (m[3] !== undefined && id === undefined)) return FORWARD;
    return { kind: route.kind, apiVersion: m[1] as 'v2' | 'v3', projectId, id, buffersBody: route.buffersBody };
  }
  return FORWARD;
}
