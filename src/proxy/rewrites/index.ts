import { extensionList } from './extensions.js';
import { v2Links } from './links.js';
import { snapshotOverlay, volumeOverlay } from './resources.js';
import type { Rewrite, RewriteContext } from './types.js';
import { versionDiscovery } from './versions.js';

export type { Rewrite, RewriteContext, Splicer } from './types.js';

/**
 * The response rewrites, run in this order (like http-proxy's passes). Links come before the overlay only for
 * clarity: the overlay never writes links, and version discovery is never combined with the others.
 */
export const REWRITES: readonly Rewrite[] = [v2Links, volumeOverlay, snapshotOverlay, extensionList, versionDiscovery];

/** The rewrites that apply to this request (decided before the answer arrives). */
export function selectRewrites(ctx: RewriteContext, list: readonly Rewrite[] = REWRITES): Rewrite[] {
  return list.filter((r) => r.matches(ctx));
}

/** Whether any of the selected rewrites applies to an answer with this status. */
export function acceptsStatus(rewrites: readonly Rewrite[], status: number): Rewrite[] {
  return rewrites.filter((r) => (r.acceptsStatus ? r.acceptsStatus(status) : status >= 200 && status < 300));
}

/** Run the rewrites over the parsed body, in order (a rewrite may answer with a Promise). */
export async function applyRewrites(body: unknown, ctx: RewriteContext, rewrites: readonly Rewrite[]): Promise<unknown> {
  let current = body;
  for (const r of rewrites) current = await r.apply(current, ctx);
  return current;
}
