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
  overlay(type: ResourceType, id: string): ResourceOverlay;
  extensions: readonly ExtensionDescription[];
  /** `proto://host` of the proxy as the caller reached it. */
  publicBase: string;
}

/** One response rewrite: a matcher (decided before the answer arrives) and a pure function on the parsed body. */
export interface Rewrite {
  name: string;
  matches(ctx: RewriteContext): boolean;
  /** Answer statuses the rewrite applies to (default: 2xx). */
  acceptsStatus?(status: number): boolean;
  apply(body: unknown, ctx: RewriteContext): unknown;
  /**
   * The same rewrite done on the answer's bytes, without parsing them; undefined where it cannot give
   * exactly what `apply` gives (the parsed path then runs). Used when it is the only rewrite that applies.
   */
  splice?(bytes: Buffer, ctx: RewriteContext): Buffer | undefined;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
