/**
 * A path (and query) made only of characters the WHATWG URL parser leaves alone, with no dot segment (`/.`,
 * also percent-encoded) and no empty query: such a path is what `new URL()` would make of it, byte for byte.
 */
const PLAIN = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/]*(\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]+)?$/;
const DOT_SEGMENT = /\/(\.|%2e)/i;

/**
 * The path sent upstream for a caller's URL (`prefix` is the upstream's own mount path, no trailing slash):
 * normalised as a URL would be (dot segments resolved, unsafe characters percent-encoded, a fragment
 * dropped), so the upstream never gets bytes Node's client refuses. Most request URLs are plain and are
 * used as they are; only the others pay for a URL parse.
 */
export function upstreamPath(prefix: string, url: string): string {
  const joined = prefix + (url.startsWith('/') ? url : `/${url}`);
  if (PLAIN.test(joined) && !DOT_SEGMENT.test(joined)) return joined;
  // an origin of its own in front, never a base: `//host/x` must stay a path, not become a host
  const u = new URL(`http://upstream.invalid${joined}`);
  return u.pathname + u.search;
}
