import type { IncomingMessage, ServerResponse } from 'node:http';
import { cinderJson } from './json.js';

/**
 * Send an answer the proxy makes itself: JSON written the way Cinder writes it, with the request id.
 * When `req` still has body bytes coming, the connection is closed after the answer: otherwise the
 * rest of that body would be read as the next request.
 */
export function sendOwnJson(res: ServerResponse, requestId: string, status: number, body: unknown, req?: IncomingMessage, close = false): void {
  if (res.headersSent || res.destroyed) { res.destroy(); return; }
  const bytes = Buffer.from(cinderJson(body));
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    'x-openstack-request-id': requestId,
  };
  if (close || (req !== undefined && !req.complete)) {
    headers.Connection = 'close';
    req?.resume();
  }
  res.writeHead(status, headers);
  res.end(bytes);
}
