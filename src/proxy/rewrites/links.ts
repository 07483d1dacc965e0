import { isObject, type Rewrite } from './types.js';

/** `/v3/...` -> `/v2/...` in an href's path (first `v3` segment only); query, host and relative form kept. */
export function v3HrefToV2(href: string): string {
  let url: URL;
  const absolute = /^[a-z][a-z0-9+.-]*:/i.test(href);
  try { url = new URL(href, 'http://relative.invalid'); } catch { return href; }
  const segments = url.pathname.split('/');
  const at = segments.indexOf('v3');
  if (at === -1) return href;
  segments[at] = 'v2';
  url.pathname = segments.join('/');
  return absolute ? url.toString() : `${url.pathname}${url.search}${url.hash}`;
}

function isLinksKey(key: string): boolean {
  return key === 'links' || key.endsWith('_links');
}

/** Walk any JSON value; in every `links` / `*_links` array rewrite each entry's href. Returns a new value. */
export function rewriteLinks(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteLinks);
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (isLinksKey(key) && Array.isArray(child)) {
      out[key] = child.map((link) => (isObject(link) && typeof link.href === 'string'
        ? { ...link, href: v3HrefToV2(link.href) } : rewriteLinks(link)));
    } else {
      out[key] = rewriteLinks(child);
    }
  }
  return out;
}

/** A /v2 request answered by /v3 upstream: links point back at /v2 (version documents are handled by version-discovery). */
export const v2Links: Rewrite = {
  name: 'v2-links',
  matches: (ctx) => ctx.translated && !ctx.target.versionDocument,
  apply: (body) => rewriteLinks(body),
};
