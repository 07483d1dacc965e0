import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { EventEmitter } from 'node:events';
import type { ProxyServer } from 'http-proxy-3';
import type { UpstreamCallHandle, UpstreamClient } from './upstream-client.js';

/** What the lean pass sends: everything decided before web() is called, so the pass copies and parses nothing. */
export interface UpstreamCall {
  /** The path and query on the upstream (its prefix included). */
  path: string;
  /** The complete outgoing header set (outgoingHeaders()). */
  headers: OutgoingHttpHeaders;
  /** Bytes to send instead of the request stream (an inspected action body, or an empty retry body). */
  body?: Buffer;
  /** Whether the request stream carries a body to pipe upstream; a body-less request is ended at once. */
  streamBody: boolean;
}

/** The options web() hands the pass: http-proxy-3's own target, the upstream client and the call. */
export interface LeanPassOptions {
  target: URL;
  client: UpstreamClient;
  upstream: UpstreamCall;
}

type ErrorCallback = (err: Error, req: IncomingMessage, res: ServerResponse, target: URL) => void;

/**
 * The project's replacement for http-proxy-3's `stream` web pass, for a ProxyServer with selfHandleResponse.
 * http-proxy-3's copies the options and headers twice, parses URLs three times and pipes even a body-less
 * request through node's http.request; this one makes one call on the upstream client (undici's Pool) from
 * what the caller already decided. It keeps the framework's contract: `proxyReq` before anything is sent
 * (with the UpstreamCall, whose headers a listener may still change), `proxyRes` with the answer (the
 * listener streams it), errors of the request and of the upstream call to the web() callback, `econnreset`
 * when the caller went away, and the upstream call ended when the caller's connection closes before the
 * answer was sent.
 */
export function leanStream(req: IncomingMessage, res: ServerResponse, options: LeanPassOptions, _head: unknown,
  proxyServer: ProxyServer, cb?: ErrorCallback): boolean {
  // the framework's emitter, typed loosely: its events are typed for node's ClientRequest
  const server = proxyServer as unknown as EventEmitter;
  const { target, upstream } = options;
  let failed = false;
  let handle: UpstreamCallHandle | undefined;
  const onError = (err: Error & { code?: string }) => {
    if (failed) return;
    failed = true;
    // the caller's connection: a request whose body was read to the end has let go of it, its response has not
    const caller = res.socket ?? req.socket;
    if ((!caller || caller.destroyed) && (err.code === 'ECONNRESET' || err.code === 'ECONNABORTED')) {
      server.emit('econnreset', err, req, res, target);
      handle?.abort();
      return;
    }
    if (cb) cb(err, req, res, target); else server.emit('error', err, req, res, target);
  };
  if (upstream.streamBody) req.on('error', onError);
  // listeners may still change the call (its headers), as they could a ClientRequest before it was sent
  server.emit('proxyReq', upstream, req, res, options);
  handle = options.client.call({
    method: req.method ?? 'GET', path: upstream.path, headers: upstream.headers,
    ...(upstream.body ? { body: upstream.body } : upstream.streamBody ? { body: req } : {}),
  }, {
    onAnswer: (answer) => { server.emit('proxyRes', answer, req, res); },
    onError,
  });
  res.once('close', () => { if (!res.writableFinished) handle?.abort(); });
  return true;
}

/**
 * Put leanStream where http-proxy-3's `stream` pass is, and drop its deleteLength pass: that one forces
 * `content-length: 0` on DELETE/OPTIONS without one, which would cut off a chunked body (and a body-less
 * request needs no such header anyway).
 */
export function installLeanPass(proxy: ProxyServer): void {
  const passes = (proxy as unknown as { webPasses: Array<(...args: never[]) => unknown> }).webPasses;
  const at = passes.findIndex((p) => p.name === 'stream');
  if (at === -1) throw new Error('http-proxy-3 has no `stream` web pass to replace');
  passes[at] = leanStream as never;
  const drop = passes.findIndex((p) => p.name === 'deleteLength');
  if (drop !== -1) passes.splice(drop, 1);
}
