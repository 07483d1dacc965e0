import type { ResourceOverlay, ResourceType } from '../../state/types.js';
import type { CinderTarget } from '../../cinder/path.js';
import type { ExtensionDescription } from '../../cinder/types.js';

/** Everything a rewrite may look at besides the body; built once per request. */
export interface RewriteContext {
  /** The method Cinder dispatches on (a `_method` override included). */
  method: string;
  /** The caller's target as Cinder reads it (version, project, segments). */
  target: CinderTarget;
  /** This /v2 request was sent upstream as /v3. */
  translated: boolean;
  /** /v2 is served by translation (the upstream has no v2, or v2Mode is translate). */
  v2ByTranslation: boolean;
  injectBackupStatus: boolean;
  /** The overlays of every resource in the answer, in one read (rejects with `stateUnavailable` when the store is down). */
  overlays(type: ResourceType, ids: readonly string[]): Promise<Map<string, ResourceOverlay>>;
  /** The same overlays at once when this process has every one cached; undefined when `overlays` must read. */
  cachedOverlays?(type: ResourceType, ids: readonly string[]): Map<string, ResourceOverlay> | undefined;
  extensions: readonly ExtensionDescription[];
  /** `proto://host` of the proxy as the caller reached it. */
  publicBase: string;
}

/**
 * One response rewrite: a matcher (decided before the answer arrives) and a function on the parsed body,
 * pure but for the one state read a rewrite may make (hence a Promise where it does).
 */
export interface Rewrite {
  name: string;
  matches(ctx: RewriteContext): boolean;
  /** Answer statuses the rewrite applies to (default: 2xx). */
  acceptsStatus?(status: number): boolean;
  apply(body: unknown, ctx: RewriteContext): unknown;
  /**
   * The same rewrite done on the answer's bytes, without parsing them (used when it is the only rewrite
   * that applies): a splicer made when the answer starts, fed the bytes as they arrive.
   */
  splicer?(ctx: RewriteContext): Splicer;
}

/** A rewrite on the answer's bytes, reading them as they arrive. */
export interface Splicer {
  /** The answer's bytes so far (each call's first bytes are the ones given before, unchanged). */
  feed(bytesSoFar: Buffer): void;
  /**
   * The rewritten answer, in a buffer from `allocate` (at least the size asked for); undefined where it cannot
   * give exactly what the rewrite's `apply` gives (the parsed path then runs). At once when it needs no read
   * (the overlays are cached), else a promise of it.
   */
  finish(bytes: Buffer, allocate?: (size: number) => Buffer): Buffer | undefined | Promise<Buffer | undefined>;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
