import type http from 'node:http';
import type { Config } from '../config/schema.js';
import { fault } from '../errors.js';
import type { Logger } from '../log.js';
import { createUpstreamAgent } from './agent.js';
import { encodeSegment } from './path.js';
import { smallRequest } from './request.js';
import type { UpstreamVersions } from './versions.js';
import { UpstreamError, type CallerContext, type CinderApi, type CinderSnapshot, type CinderVolume } from './types.js';

export interface CinderClientDeps {
  config: Config;
  logger: Logger;
  versions: Pick<UpstreamVersions, 'apiVersionFor'>;
}

export interface CinderClient extends CinderApi {
  close(): void;
}

/**
 * Caller headers that carry identity or API semantics; everything else (hop-by-hop, content, the caller's
 * request id) is ours to set. Microversion headers are kept: the caller's microversion decides the answer's shape.
 */
const FORWARDED_HEADERS = [
  'x-auth-token', 'authorization', 'openstack-api-version', 'x-openstack-volume-api-version',
  'x-service-token', 'x-openstack-global-request-id', 'user-agent', 'accept-language',
];

export function callerHeaders(caller: CallerContext): Record<string, string> {
  const out: Record<string, string> = { accept: 'application/json', 'x-openstack-request-id': caller.requestId };
  for (const name of FORWARDED_HEADERS) {
    const value = caller.headers[name];
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string' && first !== '') out[name] = first;
  }
  return out;
}

/** A small typed client for the upstream calls the proxy makes itself, always with the caller's own credentials. */
export function createCinderClient({ config, logger, versions }: CinderClientDeps): CinderClient {
  const log = logger.child({ module: 'cinder-client' });
  const base = new URL(config.upstream.url);
  const agent: http.Agent = createUpstreamAgent(base, config.upstream);
  const prefix = base.pathname.replace(/\/+$/, '');
  // ids come decoded from the caller's path: encoded again byte for byte, Cinder reads what the caller sent
  const seg = encodeSegment;

  async function getJson(projectId: string | null, path: string, caller: CallerContext): Promise<unknown> {
    // v2 where the upstream still serves it (the API the original extensions were written against), else v3;
    // the project-less form exists only in v3
    const ver = projectId === null ? 'v3' : await versions.apiVersionFor('v2');
    const url = new URL(`${prefix}/${ver}${projectId === null ? '' : `/${seg(projectId)}`}${path}`, base);
    const answer = await smallRequest({
      agent, url, headers: callerHeaders(caller), timeoutMs: config.upstream.connectTimeoutMs + config.upstream.timeoutMs,
    });
    log.debug({ requestId: caller.requestId, url: url.pathname, status: answer.status }, 'upstream call');
    if (answer.status < 200 || answer.status > 299) throw new UpstreamError(answer.status, answer.headers, answer.body);
    try {
      return JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new UpstreamError(502, answer.headers, answer.body);
    }
  }

  return {
    async getVolume(projectId, volumeId, caller) {
      nameable('Volume', projectId, volumeId);
      const doc = await getJson(projectId, `/volumes/${seg(volumeId)}`, caller);
      return objectAt<CinderVolume>(doc, 'volume', 'Volume', volumeId);
    },
    async getSnapshot(projectId, snapshotId, caller) {
      nameable('Snapshot', projectId, snapshotId);
      const doc = await getJson(projectId, `/snapshots/${seg(snapshotId)}`, caller);
      return objectAt<CinderSnapshot>(doc, 'snapshot', 'Snapshot', snapshotId);
    },
    async listVolumeSnapshots(projectId, volumeId, caller) {
      const doc = await getJson(projectId, `/snapshots?volume_id=${seg(volumeId)}`, caller);
      const list = (doc as { snapshots?: unknown } | null)?.snapshots;
      if (!Array.isArray(list)) throw new Error('upstream snapshot list has no "snapshots" array');
      // Cinder ignores filters it does not know: filter again here
      return list.filter((s): s is CinderSnapshot => (s as CinderSnapshot | null)?.volume_id === volumeId);
    },
    close: () => agent.destroy(),
  };
}

/**
 * A `.` or `..` segment cannot be sent: URL resolves it away (`/snapshots/..` is the project's root), so
 * the proxy would ask about another resource. No volume or snapshot has such an id: Cinder's 404.
 */
function nameable(what: 'Volume' | 'Snapshot', projectId: string | null, id: string): void {
  if ([projectId, id].some((s) => s === '.' || s === '..')) throw fault('resourceNotFound', { what, id });
}

/**
 * The resource out of a show answer. A 2xx without it (`/snapshots/detail` is Cinder's list, not a
 * snapshot named "detail") means no such resource: Cinder's own 404 for that id, as its router answers
 * a POST to `/snapshots/detail/action`.
 */
function objectAt<T>(doc: unknown, key: string, what: 'Volume' | 'Snapshot', id: string): T {
  const value = (doc as Record<string, unknown> | null)?.[key];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fault('resourceNotFound', { what, id });
  return value as T;
}
