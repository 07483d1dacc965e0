import type { ServerResponse } from 'node:http';
import { CinderFault, fault, faultBody } from '../errors.js';
import { UpstreamError } from '../cinder/types.js';
import { sendOwnJson } from '../cinder/reply.js';
import { HOP_BY_HOP as CONNECTION_HEADERS } from '../proxy/headers.js';
import type { RequestContext } from './request-context.js';

/** Headers of an upstream answer that are not copied: one hop's connection, and the framing we set anew. */
const NOT_COPIED = new Set([...CONNECTION_HEADERS, 'transfer-encoding', 'content-length']);

/** A JSON answer the proxy makes itself, with its request id. */
export function sendJson(res: ServerResponse, ctx: RequestContext, status: number, body: unknown, close = false): void {
  sendOwnJson(res, ctx.requestId, status, body, undefined, close);
}

/** An upstream non-2xx answer, passed to the caller exactly as it came (status, headers, body). */
function sendUpstream(res: ServerResponse, err: UpstreamError): void {
  if (res.headersSent) { res.destroy(); return; }
  res.statusCode = err.status;
  for (const [name, value] of Object.entries(err.headers)) {
    if (value !== undefined && !NOT_COPIED.has(name.toLowerCase())) res.setHeader(name, value);
  }
  res.setHeader('Content-Length', err.body.length);
  res.end(err.body);
}

/**
 * Render anything a handler threw: a CinderFault as Cinder's fault body, an UpstreamError as it came,
 * anything else as a 500 computeFault (logged; the process keeps serving).
 */
export function sendError(res: ServerResponse, ctx: RequestContext, err: unknown, close = false): void {
  if (err instanceof UpstreamError) { sendUpstream(res, err); return; }
  let f: CinderFault;
  if (err instanceof CinderFault) {
    f = err;
    ctx.logger.info({ kind: f.kind, status: f.status }, f.message);
  } else {
    ctx.logger.error({ err }, 'unexpected error');
    f = fault('internal');
  }
  sendJson(res, ctx, f.status, faultBody(f.status, f.message), close);
}
