import type { IncomingMessage } from 'node:http';
import { fault } from '../errors.js';

/** A fault that leaves the request stream unread, so the connection must not be reused. */
export class BodyRejected extends Error {
  constructor(readonly fault: Error) { super(fault.message); }
}

/**
 * Read a small request body whole, refusing anything over `limit` bytes: at once from Content-Length,
 * or by counting the bytes of a chunked body as they arrive. Throws BodyRejected(overLimit).
 */
export function readLimitedBody(req: IncomingMessage, limit: number, signal?: AbortSignal): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.reject(new BodyRejected(fault('bodyTooLarge')));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData); req.off('end', onEnd); req.off('error', onError); req.off('close', onClose);
      signal?.removeEventListener('abort', onAborted);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        reject(new BodyRejected(fault('bodyTooLarge')));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks, size)); };
    const onError = (err: Error) => { cleanup(); reject(err); };
    const onAborted = () => { cleanup(); reject(new Error('request aborted')); };
    // a socket closed before the body ended: the client went away
    const onClose = () => { if (!req.complete) onAborted(); };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
    signal?.addEventListener('abort', onAborted, { once: true });
  });
}

/** Parse a JSON body that must be an object (as every Cinder request body is); else 400 Malformed request body. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try { value = JSON.parse(body.toString('utf8')); } catch { throw fault('malformedBody'); }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fault('malformedBody');
  return value as Record<string, unknown>;
}
