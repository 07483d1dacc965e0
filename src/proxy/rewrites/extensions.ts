import { isObject, type Rewrite } from './types.js';

/** GET .../extensions: the upstream list plus ours (never dropping upstream entries, no alias twice). */
export const extensionList: Rewrite = {
  name: 'extension-list',
  matches: (ctx) => ctx.method === 'GET' && ctx.target.version !== null && ctx.target.rest.length === 1 && ctx.target.rest[0] === 'extensions',
  apply(body, ctx) {
    if (!isObject(body) || !Array.isArray(body.extensions)) return body;
    const upstream = body.extensions as unknown[];
    const aliases = new Set(upstream.flatMap((e) => (isObject(e) && typeof e.alias === 'string' ? [e.alias] : [])));
    const added = ctx.extensions.filter((e) => !aliases.has(e.alias)).map((e) => ({ ...e }));
    return { ...body, extensions: [...upstream, ...added] };
  },
};
