import type http from 'node:http';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { fault } from '../errors.js';
import { createUpstreamAgent } from './agent.js';
import { smallRequest } from './request.js';

/** What the proxy knows about the upstream's API versions (from its version document at `GET /`). */
export interface UpstreamVersions {
  /** Whether the upstream lists a v2 API. Throws CinderFault(upstreamUnavailable|upstreamTimeout) when it cannot tell. */
  hasV2(): Promise<boolean>;
  /** The upstream API version that serves a caller's /v2 or /v3 request (config.upstream.v2Mode decides for v2). */
  apiVersionFor(callerVersion: 'v2' | 'v3'): Promise<'v2' | 'v3'>;
  close(): void;
}

export interface VersionsDeps {
  config: Config;
  logger: Logger;
  /** Shared agent; by default the module makes its own. */
  agent?: http.Agent;
}

/** A failed probe is retried after this long (the success lifetime is config.upstream.versionCacheMs). */
const FAILURE_CACHE_MS = 1000;

/** The version ids in a Cinder version document (`{"versions": [{"id": "v3.0", ...}]}`, answered with 300 or 200). */
export function versionIds(doc: unknown): string[] | null {
  const list = (doc as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(list)) return null;
  return list.flatMap((v) => (typeof (v as { id?: unknown })?.id === 'string' ? [(v as { id: string }).id] : []));
}

export function createUpstreamVersions({ config, logger, agent }: VersionsDeps): UpstreamVersions {
  const log = logger.child({ module: 'upstream-versions' });
  const { upstream } = config;
  const base = new URL(upstream.url);
  const ownAgent = agent ? null : createUpstreamAgent(base, upstream);
  const useAgent = agent ?? ownAgent!;
  let cached: { until: number; value: Promise<boolean> } | null = null;

  async function probe(): Promise<boolean> {
    const url = new URL(base.pathname.replace(/\/*$/, '/'), base);
    const answer = await smallRequest({
      agent: useAgent, url, headers: { accept: 'application/json' }, timeoutMs: upstream.connectTimeoutMs + upstream.timeoutMs,
    });
    if (answer.status >= 500) throw fault('upstreamUnavailable', { reason: `version document answered ${answer.status}` });
    let ids: string[] | null = null;
    try { ids = versionIds(JSON.parse(answer.body.toString('utf8'))); } catch { ids = null; }
    if (!ids) throw fault('upstreamUnavailable', { reason: `no version document at GET / (status ${answer.status})` });
    const v2 = ids.some((id) => id.startsWith('v2'));
    log.info({ versions: ids, hasV2: v2 }, 'upstream versions');
    return v2;
  }

  function hasV2(): Promise<boolean> {
    const now = Date.now();
    if (cached && cached.until > now) return cached.value;
    const value = probe();
    const entry = { until: now + upstream.versionCacheMs, value };
    cached = entry;
    value.catch((err: unknown) => {
      log.warn({ err }, 'upstream version probe failed');
      // keep the failure only briefly, so a restarted Cinder is noticed at once
      if (cached === entry) entry.until = Math.min(entry.until, Date.now() + FAILURE_CACHE_MS);
    });
    return value;
  }

  async function apiVersionFor(callerVersion: 'v2' | 'v3'): Promise<'v2' | 'v3'> {
    if (callerVersion === 'v3') return 'v3';
    if (upstream.v2Mode === 'native') return 'v2';
    if (upstream.v2Mode === 'translate') return 'v3';
    return (await hasV2()) ? 'v2' : 'v3';
  }

  return { hasV2, apiVersionFor, close: () => ownAgent?.destroy() };
}
