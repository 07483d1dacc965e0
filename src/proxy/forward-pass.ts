import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { EventEmitter } from 'node:events';
import type { ProxyServer } from 'http-proxy-3';

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

/** The options web() hands the pass: http-proxy-3's own (target, agent) plus the call. */
export interface LeanPassOptions {
  target: URL;
  /** target's host name as the resolver takes it (an IPv6 address without its brackets). */
  hostname: string;
  agent: http.Agent;
  /**
   * The upstream call's idle limit: the request's own socket timeout (Node sets it on the socket it gets
   * and its agent puts the idle one back), reported as the call's `timeout` event.
   */
  timeoutMs: number;
  upstream: UpstreamCall;
}

type ErrorCallback = (err: Error, req: IncomingMessage, res: ServerResponse, target: URL) => void;

/**
 * The project's replacement for http-proxy-3's `stream` web pass, for a ProxyServer with selfHandleResponse.
 * http-proxy-3's copies the options and headers twice, parses URLs three times and pipes even a body-less
 * request; this one makes one http.request from what the caller already decided. It keeps the framework's
 * contract: `proxyReq` before anything is sent, `proxyRes` with the answer (the listener streams it), errors
 * of the request and of the upstream call to the web() callback, `econnreset` when the caller went away, and
 * the upstream call destroyed when the caller's connection closes before the answer was sent.
 */
export function leanStream(req: IncomingMessage, res: ServerResponse, options: LeanPassOptions, _head: unknown,
  proxyServer: ProxyServer, cb?: ErrorCallback): boolean {
  // the framework's emitter, typed loosely: `proxyReq` goes out before the socket is known (it carries none)
  const server = proxyServer as unknown as EventEmitter;
  const { target, upstream } = options;
  const proxyReq = (target.protocol === 'https:' ? https : http).request({
    protocol: target.protocol, hostname: options.hostname, port: target.port, method: req.method, path: upstream.path,
    headers: upstream.headers, agent: options.agent, timeout: options.timeoutMs,
  });
  server.emit('proxyReq', proxyReq, req, res, options);
  const onError = (err: Error & { code?: string }) => {
    if (req.socket.destroyed && err.code === 'ECONNRESET') {
      server.emit('econnreset', err, req, res, target);
      proxyReq.destroy();
      return;
    }
    if (cb) cb(err, req, res, target); else server.emit('error', err, req, res, target);
  };
  proxyReq.on('error', onError);
  res.once('close', () => { if (!res.writableFinished) proxyReq.destroy(); });
  proxyReq.once('response', (proxyRes) => { server.emit('proxyRes', proxyRes, req, res); });
  if (upstream.body) {
    proxyReq.end(upstream.body);
  } else if (upstream.streamBody) {
    req.on('error', onError);
    req.pipe(proxyReq);
  } else {
    proxyReq.end();
  }
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
