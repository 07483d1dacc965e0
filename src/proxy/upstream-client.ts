import { Readable } from 'node:stream';
import type { OutgoingHttpHeaders } from 'node:http';
import { Pool, type Dispatcher } from 'undici';
import { ANSWER_TIMEOUT_CODE, CONNECT_TIMEOUT_CODE, FREE_SOCKET_IDLE_MS } from '../cinder/agent.js';

/**
 * The forwarder's client for the upstream: undici's Pool. Measured floor against floor (a bare node:http
 * server forwarding with it, against the same server forwarding with http.request and a keep-alive agent),
 * it served 1.33-1.50x the requests; the client half of every forwarded request is most of that.
 *
 * What http.request gave the forwarding and the Pool is made to give the same way:
 * - the idle limit of an exchange (`timeoutMs`): no answer head, or no answer byte, for that long (a flowing
 *   upload keeps the head's timer alive: undici refreshes it on every write) fails with ANSWER_TIMEOUT_CODE;
 * - a connect that takes longer than `connectTimeoutMs` fails with CONNECT_TIMEOUT_CODE;
 * - an upstream that closes the connection under a request fails with ECONNRESET, as node's socket did;
 * - free connections are dropped after FREE_SOCKET_IDLE_MS, or earlier by the server's keep-alive hint.
 */
export interface UpstreamClientOptions {
  maxSockets: number;
  connectTimeoutMs: number;
  timeoutMs: number;
}

/**
 * The upstream's answer: its head, and its body as a stream read at the caller's pace. Destroying it before
 * its end ends the upstream call, as destroying node's IncomingMessage destroyed its socket.
 */
export class UpstreamAnswer extends Readable {
  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    /** Names and values in the order and case the upstream sent them. */
    readonly rawHeaders: string[],
    private readonly resumeUpstream: () => void,
    private readonly abortUpstream: () => void,
  ) {
    super();
  }

  override _read(): void {
    this.resumeUpstream();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.abortUpstream();
    callback(err);
  }
}

/** One call in flight: abort() ends it (and the connection it uses). */
export interface UpstreamCallHandle {
  abort(): void;
}

export interface UpstreamRequest {
  method: string;
  path: string;
  headers: OutgoingHttpHeaders;
  /** Sent as it is (a held body), streamed (the caller's request), or none. */
  body?: Buffer | Readable;
}

export interface UpstreamCallbacks {
  /** The answer's head arrived; the body follows on the answer stream. */
  onAnswer(answer: UpstreamAnswer): void;
  /** The call failed before its answer's head (after it, the answer stream is destroyed with the error). */
  onError(err: Error & { code?: string }): void;
}

/** undici's error codes, as the codes the forwarder's fault table knows. */
const CODES: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: CONNECT_TIMEOUT_CODE,
  UND_ERR_HEADERS_TIMEOUT: ANSWER_TIMEOUT_CODE,
  UND_ERR_BODY_TIMEOUT: ANSWER_TIMEOUT_CODE,
  UND_ERR_SOCKET: 'ECONNRESET',
};

function asNodeError(err: Error & { code?: string }): Error & { code?: string } {
  const code = err.code && CODES[err.code];
  if (code) err.code = code;
  return err;
}

/** undici refuses framing headers of the caller's: it frames the body itself (chunked for a stream of unknown length). */
function headerList(headers: OutgoingHttpHeaders): string[] {
  const out: string[] = [];
  for (const name in headers) {
    if (name === 'transfer-encoding') continue;
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

/** Cinder's header bytes as strings, as node:http gives rawHeaders (latin1: one char per byte). */
function headerStrings(raw: Buffer[] | string[] | null): string[] {
  const out: string[] = [];
  if (raw) for (const h of raw) out.push(typeof h === 'string' ? h : h.toString('latin1'));
  return out;
}

export class UpstreamClient {
  private readonly pool: Pool;

  constructor(origin: URL, options: UpstreamClientOptions) {
    this.pool = new Pool(origin.origin, {
      connections: options.maxSockets,
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: FREE_SOCKET_IDLE_MS,
      // a server's `Keep-Alive: timeout=N` hint, less this margin, shortens it (node's agent keeps 1 s too)
      keepAliveTimeoutThreshold: 1000,
    });
  }

  call(request: UpstreamRequest, callbacks: UpstreamCallbacks): UpstreamCallHandle {
    let answer: UpstreamAnswer | undefined;
    let abortCall: ((err: Error) => void) | undefined;
    let aborted = false;
    /** undici has completed or failed the call: nothing left to abort. */
    let settled = false;
    const abort = () => {
      if (aborted || settled) return;
      aborted = true;
      abortCall?.(new Error('caller went away'));
    };
    const handler: Dispatcher.DispatchHandlers = {
      onConnect(abort) {
        abortCall = abort;
        if (aborted) abort(new Error('caller went away'));
      },
      onHeaders(statusCode, rawHeaders, resume, statusText) {
        answer = new UpstreamAnswer(statusCode, statusText, headerStrings(rawHeaders), resume, abort);
        callbacks.onAnswer(answer);
        return true;
      },
      onData(chunk) {
        // false pauses undici's parser until the answer's reader asks for more (_read: resume)
        return answer!.push(chunk);
      },
      onComplete() {
        settled = true;
        answer?.push(null);
      },
      onError(err) {
        settled = true;
        if (aborted) { answer?.destroy(); return; }
        const e = asNodeError(err as Error & { code?: string });
        if (answer) answer.destroy(e); else callbacks.onError(e);
      },
    };
    this.pool.dispatch({
      method: request.method as Dispatcher.HttpMethod, path: request.path,
      headers: headerList(request.headers), body: request.body ?? null,
    }, handler);
    return { abort };
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}
