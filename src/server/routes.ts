import { isMutating, type ApiVersion, type CinderTarget } from '../cinder/path.js';

/**
 * The route table: which requests the proxy looks at itself, on the target as Cinder's router reads it
 * (src/cinder/path.ts), so every URL form Cinder accepts (format suffix, empty segments, no project,
 * `_method`) lands on the same route. Everything else is `forward`, or `mutation` when it changes
 * something: those are checked against held resources before they go upstream.
 */
export type RouteKind =
  | 'extension-show'
  | 'volume-action'
  | 'snapshot-action'
  | 'volume-delete'
  | 'snapshot-create'
  | 'snapshot-delete'
  | 'attachment-create'
  | 'volume-create'
  | 'backup-create'
  | 'backup-restore'
  | 'harmless-update'
  | 'mutation'
  | 'forward';

export interface RouteMatch {
  kind: RouteKind;
  apiVersion: ApiVersion;
  /** Null when the URL carries no project (Cinder's project-less form). */
  projectId: string | null;
  /** Volume or snapshot id, or extension alias. */
  id?: string;
  /** The body is read (with the size limit) before anything else. */
  buffersBody: boolean;
}

type Kind = Exclude<RouteKind, 'forward' | 'mutation'>;

function harmless(method: string, ...shape: string[]) {
  return { method, shape, kind: 'harmless-update' as const, buffersBody: false };
}

/** `:id` stands for any one segment; everything else is literal. */
const TABLE: { method: string; shape: string[]; kind: Kind; buffersBody: boolean; v3Only?: boolean }[] = [
  { method: 'GET', shape: ['extensions', ':id'], kind: 'extension-show', buffersBody: false },
  { method: 'POST', shape: ['volumes', ':id', 'action'], kind: 'volume-action', buffersBody: true },
  { method: 'POST', shape: ['snapshots', ':id', 'action'], kind: 'snapshot-action', buffersBody: true },
  { method: 'DELETE', shape: ['volumes', ':id'], kind: 'volume-delete', buffersBody: false },
  { method: 'POST', shape: ['snapshots'], kind: 'snapshot-create', buffersBody: true },
  { method: 'DELETE', shape: ['snapshots', ':id'], kind: 'snapshot-delete', buffersBody: false },
  { method: 'POST', shape: ['attachments'], kind: 'attachment-create', buffersBody: true, v3Only: true },
  { method: 'POST', shape: ['volumes'], kind: 'volume-create', buffersBody: true },
  { method: 'POST', shape: ['backups'], kind: 'backup-create', buffersBody: true },
  { method: 'POST', shape: ['backups', ':id', 'restore'], kind: 'backup-restore', buffersBody: true },
  // name, description and metadata never touch a volume's data: Cinder takes them in any status
  ...['volumes', 'snapshots'].flatMap((c) => [
    harmless('PUT', c, ':id'),
    harmless('POST', c, ':id', 'metadata'), harmless('PUT', c, ':id', 'metadata'),
    harmless('PUT', c, ':id', 'metadata', ':id'), harmless('DELETE', c, ':id', 'metadata', ':id'),
  ]),
];

function matches(shape: string[], rest: string[]): boolean {
  return shape.length === rest.length && shape.every((s, i) => (s === ':id' ? rest[i] !== '' : s === rest[i]));
}

/** Classify a parsed target. */
export function classify(target: CinderTarget): RouteMatch {
  const { version, project, rest } = target;
  // outside /v2 and /v3 Cinder routes nothing but its version list
  if (version === null) return { kind: 'forward', apiVersion: 'v3', projectId: null, buffersBody: false };
  if (!target.methodFromBody) {
    for (const route of TABLE) {
      if (route.method !== target.method || (route.v3Only && version !== 'v3') || !matches(route.shape, rest)) continue;
      return { kind: route.kind, apiVersion: version, projectId: project, id: rest[1], buffersBody: route.buffersBody };
    }
  }
  return { kind: isMutating(target) ? 'mutation' : 'forward', apiVersion: version, projectId: project, buffersBody: false };
}
