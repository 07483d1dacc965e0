/**
 * A request target read the way Cinder's router reads it: the one parser the route table, the refusals and
 * the response rewrites share. What Cinder (Zed, cinder/api/urlmap.py + Routes) does, checked against the
 * real cinder-api of scripts/cinder-dev:
 * - the WSGI server percent-decodes the path (so `%2F` is a separator and `%76%33` is `v3`), bytes as latin-1;
 * - urlmap collapses runs of `/` (`/v3//p//volumes/x` is `/v3/p/volumes/x`); dot segments are not resolved;
 * - every route also matches with a `.json` format suffix (`volumes/x.json`, `x/action.json`), case-sensitive;
 * - every resource route also exists without the project (`/v3/volumes/x`), and a project id must match
 *   `project_id_regex` (hex and dashes by default) for the project form;
 * - Routes takes the method from `_method` in the query string (the last value; `GET ...?_method=DELETE`
 *   deletes), or, for a form-encoded POST without one, from the form body;
 * - a trailing slash matches no route.
 * It reads the target the forwarder sends (`sent`, made by upstreamPath: dot segments resolved), not the
 * caller's bytes: Cinder itself resolves no dot segment, but it never sees one.
 */

export type ApiVersion = 'v2' | 'v3';

export interface CinderTarget {
  /** The method Cinder dispatches on (after a `_method` override). */
  method: string;
  /** A form-encoded POST: Cinder may take the method from the body, which the proxy does not read. */
  methodFromBody: boolean;
  /** The path and query the forwarder sends (below the upstream's own mount path): upstreamPath of the caller's target. */
  sent: string;
  /** `sent` without its query, not decoded. */
  rawPath: string;
  /** Null outside /v2 and /v3. */
  version: ApiVersion | null;
  /** Null when the URL carries no project (or is outside /v2 and /v3). */
  project: string | null;
  /** Decoded segments after the project, the `.json` suffix cut from the last one. */
  rest: string[];
  /** `/`, or one version's own document (`/v3`, `/v3/`). */
  versionDocument: boolean;
}

const FORMAT_SUFFIX = '.json';
const FORM_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data']);

/** The target as the forwarder sends it upstream: an absolute-form or `*` target gets a leading slash. */
export function upstreamTarget(url: string | undefined): string {
  const raw = url ?? '/';
  return raw.startsWith('/') ? raw : `/${raw}`;
}

/**
 * A path (and query) made only of characters the WHATWG URL parser leaves alone, with no dot segment (`/.`,
 * also percent-encoded) and no empty query: such a path is what `new URL()` would make of it, byte for byte.
 */
const PLAIN = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/]*(\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]+)?$/;
const DOT_SEGMENT = /\/(\.|%2e)/i;

/**
 * The path sent upstream for a caller's URL (`prefix` is the upstream's own mount path, no trailing slash):
 * normalised as a URL would be (dot segments resolved, unsafe characters percent-encoded, a fragment
 * dropped), so the upstream never gets bytes Node's client refuses, and the parser below reads what
 * Cinder will get. Most request URLs are plain and are used as they are; only the others pay for a parse.
 */
export function upstreamPath(prefix: string, url: string): string {
  const joined = prefix + (url.startsWith('/') ? url : `/${url}`);
  if (PLAIN.test(joined) && !DOT_SEGMENT.test(joined)) return joined;
  // an origin of its own in front, never a base: `//host/x` must stay a path, not become a host
  const u = new URL(`http://upstream.invalid${joined}`);
  return u.pathname + u.search;
}

/** Percent-decoding as Python's `unquote(..., 'latin-1')`: invalid escapes stay as they are; never throws. */
export function decodePath(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A decoded (latin-1) segment encoded again so that Cinder decodes it back to the same bytes. */
export function encodeSegment(segment: string): string {
  let out = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    const plain = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
    out += plain ? segment[i] : `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Form-style decoding of one query key or value (`+` is a space), as Python's parse_qsl does. */
function decodeQueryPart(part: string): string {
  const spaced = part.replace(/\+/g, ' ');
  try { return decodeURIComponent(spaced); } catch { return decodePath(spaced); }
}

/** Routes' method override: the last `_method` of the query string, when the raw query names it at all. */
function methodOverride(query: string): string | undefined {
  if (!query.includes('_method')) return undefined;
  let last: string | undefined;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (decodeQueryPart(eq === -1 ? pair : pair.slice(0, eq)) === '_method') last = eq === -1 ? '' : decodeQueryPart(pair.slice(eq + 1));
  }
  return last;
}

function isFormPost(contentType: string | string[] | undefined): boolean {
  const value = (Array.isArray(contentType) ? contentType[0] : contentType)?.toLowerCase() ?? '';
  return FORM_TYPES.has(value.split(';', 1)[0]!);
}

/** Builds the parser for one Cinder's `project_id_regex` (config `api.projectIdPattern`). */
export function targetParser(projectIdPattern: string) {
  const projectId = new RegExp(`^(?:${projectIdPattern})$`);

  return function parseTarget(method: string | undefined, url: string | undefined, contentType?: string | string[]): CinderTarget {
    const target = upstreamPath('', upstreamTarget(url));
    const q = target.indexOf('?');
    const rawPath = q === -1 ? target : target.slice(0, q);
    const requested = method ?? 'GET';
    const override = q === -1 ? undefined : methodOverride(target.slice(q + 1));
    const effective = override ? override.toUpperCase() : requested;
    const methodFromBody = override === undefined && requested === 'POST' && isFormPost(contentType);

    const decoded = decodePath(rawPath);
    const path = decoded.includes('//') ? decoded.replace(/\/{2,}/g, '/') : decoded;
    const version = path === '/v2' || path.startsWith('/v2/') ? 'v2' : path === '/v3' || path.startsWith('/v3/') ? 'v3' : null;
    // every target is built by this one literal: objects of one shape keep the code that reads them fast
    const made = (project: string | null, rest: string[], versionDocument: boolean): CinderTarget => ({
      method: effective, methodFromBody, sent: target, rawPath, version, project, rest, versionDocument,
    });
    if (version === null) return made(null, [], path === '/');
    const remainder = path.slice(3);
    if (remainder === '' || remainder === '/') return made(null, [], true);
    const segments = remainder.slice(1).split('/');
    const last = segments[segments.length - 1]!;
    if (last.length > FORMAT_SUFFIX.length && last.endsWith(FORMAT_SUFFIX)) segments[segments.length - 1] = last.slice(0, -FORMAT_SUFFIX.length);
    const project = projectId.test(segments[0]!) ? segments[0]! : null;
    return made(project, project === null ? segments : segments.slice(1), false);
  };
}

export type TargetParser = ReturnType<typeof targetParser>;

/** The methods that change something in Cinder. */
export function isMutating(target: Pick<CinderTarget, 'method' | 'methodFromBody'>): boolean {
  return target.methodFromBody || !(target.method === 'GET' || target.method === 'HEAD' || target.method === 'OPTIONS');
}

/**
 * The form under which an id names a stored row: Cinder on MySQL/MariaDB compares ids case-insensitively and
 * ignores trailing spaces, so `DELETE .../volumes/<ID in capitals>` reaches the volume there.
 */
export function canonicalId(id: string): string {
  return id.replace(/ +$/, '').toLowerCase();
}
