import http from 'node:http';
import https from 'node:https';
import { ANSWER_TIMEOUT_CODE, classifyUpstreamError, upstreamFailureReason } from './agent.js';
import { fault } from '../errors.js';

/** The answers the proxy reads itself are small JSON documents; anything larger is refused rather than held. */
export const MAX_SMALL_ANSWER_BYTES = 16 * 1024 * 1024;

export interface SmallRequest {
  agent: http.Agent;
  url: URL;
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  /** No answer (or silence mid-answer) for this long: fails with upstreamTimeout. */
  timeoutMs: number;
  signal?: AbortSignal;
  maxBytes?: number;
}

export interface SmallAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One upstream request whose answer is read whole (a version document, a volume).
 * Network failures become CinderFault upstreamUnavailable / upstreamTimeout; any HTTP status is returned.
 */
export async function smallRequest(input: SmallRequest): Promise<SmallAnswer> {
  try {
    return await attempt(input);
  } catch (err) {
    // an idle keep-alive connection the upstream closed just as it was reused: nothing was processed, ask again
    if (!(err instanceof StaleSocketError)) throw err;
    return attempt(input).catch((again: unknown) => { throw again instanceof StaleSocketError ? toFault(again.cause) : again; });
  }
}

class StaleSocketError extends Error {
  constructor(override readonly cause: unknown) { super('stale keep-alive connection'); }
}

function attempt(input: SmallRequest): Promise<SmallAnswer> {
  const maxBytes = input.maxBytes ?? MAX_SMALL_ANSWER_BYTES;
  const transport = input.url.protocol === 'https:' ? https : http;
  return new Promise<SmallAnswer>((resolve, reject) => {
    const req = transport.request(input.url, {
      method: input.method ?? 'GET', headers: input.headers, agent: input.agent, signal: input.signal,
    });
    req.setTimeout(input.timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no answer within ${input.timeoutMs} ms`), { code: ANSWER_TIMEOUT_CODE }));
    });
    req.on('error', (err: Error & { code?: string }) => {
      const stale = req.reusedSocket && (err.code === 'ECONNRESET' || err.code === 'EPIPE') && (input.method ?? 'GET') === 'GET';
      reject(stale ? new StaleSocketError(err) : toFault(err));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy(new Error(`upstream answer larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (err) => reject(toFault(err)));
    });
    req.end();
  });
}

function toFault(err: unknown): unknown {
  const kind = classifyUpstreamError(err);
  if (kind === 'timeout') return fault('upstreamTimeout');
  if (kind === 'unavailable') return fault('upstreamUnavailable', { reason: upstreamFailureReason(err) });
  return err;
}
