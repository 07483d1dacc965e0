import type { IncomingMessage, ServerResponse } from 'node:http';
import { faultBody } from '../errors.js';
import { sendOwnJson } from '../cinder/reply.js';

/** An answer the proxy makes itself: Cinder's fault body and the request id. */
export function sendFault(req: IncomingMessage, res: ServerResponse, requestId: string, status: number, message: string): void {
  sendOwnJson(res, requestId, status, faultBody(status, message), req);
}
