import { isObject, type Rewrite, type RewriteContext } from './types.js';

/** The v2 entry Cinder listed before v2 was removed, pointing at the proxy's /v2/. */
export function v2VersionEntry(publicBase: string): Record<string, unknown> {
  return {
    id: 'v2.0',
    status: 'DEPRECATED',
    version: '',
    min_version: '',
    updated: '2017-02-25T12:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${publicBase}/v2/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=2' }],
  };
}

function listsV2(versions: unknown[]): boolean {
  return versions.some((v) => isObject(v) && typeof v.id === 'string' && v.id.startsWith('v2'));
}

function applies(ctx: RewriteContext): boolean {
  if (ctx.method !== 'GET' || !ctx.v2ByTranslation || !ctx.target.versionDocument) return false;
  // the root list, and the v2 document itself when it was answered by the v3 one
  return ctx.target.version === null || ctx.translated;
}

/** Version discovery lists v2 too when the proxy serves it by translation. */
export const versionDiscovery: Rewrite = {
  name: 'version-discovery',
  matches: applies,
  // Cinder answers GET / with 300 Multiple Choices
  acceptsStatus: (status) => status === 300 || (status >= 200 && status < 300),
  apply(body, ctx) {
    if (!isObject(body) || !Array.isArray(body.versions) || listsV2(body.versions)) return body;
    return { ...body, versions: [v2VersionEntry(ctx.publicBase), ...body.versions] };
  },
};
