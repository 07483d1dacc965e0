import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultBody } from '../errors.js';
import { cinderJson } from '../cinder/json.js';

/** An answer the proxy makes itself: Cinder's fault body and the request id. */
export function sendFault(req: IncomingMessage, res: ServerResponse, requestId: string, status: number, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const bytes = Buffer.from(cinderJson(faultBody(status, message)));
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': bytes.length,
    'x-openstack-request-id': requestId,
  };
  // a body the caller is still sending would otherwise be read as the next request
  if (!req.complete) {
    headers.Connection = 'close';
    req.resume();
  }
  res.writeHead(status, headers);
  res.end(bytes);
}
