/** A caller path under /v2 or /v3, split into its parts (query string removed). */
export interface ApiPath {
  version: 'v2' | 'v3';
  /** Null for v3 paths without a project id (allowed since microversion 3.67). */
  project: string | null;
  /** Segments after the project, e.g. ['volumes', 'detail']. */
  rest: string[];
}

/** Collections that can follow /v3 directly when the URL carries no project id. */
const PROJECTLESS = new Set(['volumes', 'snapshots', 'extensions', 'backups', 'types', 'attachments', 'groups',
  'group_snapshots', 'group_types', 'messages', 'limits', 'os-quota-sets', 'workers', 'manageable_volumes',
  'manageable_snapshots', 'os-services', 'scheduler-stats', 'os-availability-zone', 'clusters', 'qos-specs',
  'os-hosts', 'consistencygroups', 'cgsnapshots', 'resource_filters', 'default-types', 'os-volume-transfer',
  'volume-transfers', 'capabilities']);

/** The path part of a request URL (no query), never throwing on hostile input. */
export function pathOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return q === -1 ? raw : raw.slice(0, q);
}

export function parseApiPath(path: string): ApiPath | null {
  const segments = path.split('/').filter((s) => s !== '');
  const version = segments[0];
  if (version !== 'v2' && version !== 'v3') return null;
  const second = segments[1];
  if (second === undefined) return { version, project: null, rest: [] };
  if (version === 'v3' && PROJECTLESS.has(second)) return { version, project: null, rest: segments.slice(1) };
  return { version, project: second, rest: segments.slice(2) };
}

/** `/` (the version list) or `/v2`, `/v2/`, `/v3/` (one version's document). */
export function isVersionDocument(path: string): boolean {
  return /^\/(v[23]\/?)?$/.test(path);
}

/** The caller's API version for the path, or null when it is not under /v2 or /v3. */
export function callerVersionOf(path: string): 'v2' | 'v3' | null {
  const m = /^\/(v2|v3)(\/|$)/.exec(path);
  return m ? (m[1] as 'v2' | 'v3') : null;
}
