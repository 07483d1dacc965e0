import type { IncomingMessage, ServerResponse } from 'node:http';
import type http from 'node:http';
import { ProxyServer, type ServerOptions } from 'http-proxy-3';
import type { Config } from '../config/schema.js';
import type { Logger, LoggerSource } from '../log.js';
import type { OverlayCache, StateStore } from '../state/types.js';
import { CinderFault, fault } from '../errors.js';
import { classifyUpstreamError, createUpstreamAgent, upstreamFailureReason } from '../cinder/agent.js';
import { smallRequest } from '../cinder/request.js';
import type { UpstreamVersions } from '../cinder/versions.js';
import type { ForwardOptions, Forwarder } from './contract.js';
import { outgoingHeaders, publicOrigin } from './headers.js';
import { decodePath, encodeSegment, type CinderTarget } from '../cinder/path.js';
import { sendAnswer } from './answer.js';
import { AnswerBuffers } from './answer-buffers.js';
import { postAnswerEffect } from './effects.js';
import { sendFault } from './respond.js';
import { installLeanPass, type LeanPassOptions, type UpstreamCall } from './forward-pass.js';
import { UpstreamClient, type UpstreamAnswer } from './upstream-client.js';
import type { ExtensionDescription } from '../cinder/types.js';
import { selectRewrites, type Rewrite, type RewriteContext } from './rewrites/index.js';

export type { ForwardOptions, Forwarder } from './contract.js';

/** JSON answers up to this size are rewritten; larger ones pass untouched (a detail list of 10 000 volumes is ~15 MiB). */
export const DEFAULT_MAX_REWRITE_BYTES = 32 * 1024 * 1024;
/** Buffers of rewritten answers kept for the next ones, at most (a few long detail lists' worth). */
const KEPT_ANSWER_BUFFER_BYTES = 16 * 1024 * 1024;

export interface ForwarderDeps {
  config: Config;
  /** A store that caches overlays (OverlayCache) lets a rewrite of cached resources go without a promise. */
  store: Pick<StateStore, 'overlays' | 'clearStatusOverride'> & Partial<OverlayCache>;
  logger: Logger;
  versions: Pick<UpstreamVersions, 'apiVersionFor'>;
  /** Descriptions appended to the upstream extension list. */
  extensions: readonly ExtensionDescription[];
  maxRewriteBytes?: number;
  /** The rewrite list (tests); REWRITES by default. */
  rewrites?: readonly Rewrite[];
}

interface InFlight {
  options: ForwardOptions;
  /** The request's `module: proxy` logger, made on first use: a request that goes well logs nothing. */
  log: LoggerSource;
  ctx: RewriteContext;
  rewrites: Rewrite[];
  /** What goes upstream; a retry sends `body` or nothing, never the already-read request stream. */
  call: UpstreamCall;
  /** May be sent a second time: idempotent, and no body or one we hold. */
  replayable: boolean;
  retried: boolean;
}

/** The server-wide options of the forwarder's web(): none (see createForwarder). */
const NO_GLOBAL_OPTIONS: ServerOptions = Object.freeze({});

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE', 'PUT']);

/** Whether the request stream carries a body (one we could not send twice). */
function streamsBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export function createForwarder(deps: ForwarderDeps): Forwarder {
  const { config, store, versions } = deps;
  const base = new URL(config.upstream.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  // the readiness probe's small requests; forwarded requests go through the client
  const agent: http.Agent = createUpstreamAgent(base, config.upstream);
  const client = new UpstreamClient(base, config.upstream);
  const maxRewriteBytes = deps.maxRewriteBytes ?? DEFAULT_MAX_REWRITE_BYTES;
  const buffers = new AnswerBuffers(KEPT_ANSWER_BUFFER_BYTES);
  // the store's reads as every request's rewrite context calls them (made once, not per request)
  const overlays: RewriteContext['overlays'] = (type, ids) => store.overlays(type, ids);
  const cachedOverlays: RewriteContext['cachedOverlays'] = (type, ids) => store.cachedOverlays?.(type, ids);
  // the request's forwarding state rides on the request object itself, under a key of this forwarder's own.
  // Not a WeakMap: measured with --trace-gc-nvp, with the record in a (long-lived, old-space) WeakMap every
  // request's object graph, which the record reaches, survived young-generation GCs and was promoted
  // (10 % survival, 4-6 ms scavenges, the heap growing under load; 0.3 % with this)
  const flightKey = Symbol('stx-in-flight');
  const inFlight = {
    get: (req: IncomingMessage) => (req as IncomingMessage & Record<symbol, InFlight | undefined>)[flightKey],
    set: (req: IncomingMessage, flight: InFlight) => { (req as IncomingMessage & Record<symbol, InFlight>)[flightKey] = flight; },
  };
  const debugging = deps.logger.isLevelEnabled('debug');
  const proxy = new ProxyServer();
  installLeanPass(proxy);
  // web() merges the server's options with the call's on every request (`{ ...global, ...call }`). With any
  // global option (the constructor always sets `prependPath`) V8 adds the call's keys one by one in its
  // runtime: ~5 µs a request, measured. The same web() made over no global options copies the call's alone.
  // Nothing here needs a global option: the lean pass reads the call's, xfwd and timeout stay unset.
  const web = proxy.createRightProxy('web')(NO_GLOBAL_OPTIONS) as typeof proxy.web;
  const send = (req: IncomingMessage, res: ServerResponse, call: UpstreamCall) => {
    const options: LeanPassOptions = { target: base, client, upstream: call };
    web(req, res, options as unknown as ServerOptions, onError);
  };

  // the idle limit (no answer, or a silent answer, for timeoutMs: 504) and the connect limit live in the client
  if (debugging) {
    proxy.on('proxyReq', (call, req) => { inFlight.get(req)?.log.logger.debug({ upstream: call.path }, 'sending upstream'); });
  }
  proxy.on('proxyRes', (upstreamAnswer, req, res) => {
    const proxyRes = upstreamAnswer as unknown as UpstreamAnswer;
    const flight = inFlight.get(req);
    if (!flight) { proxyRes.resume(); res.destroy(); return; }
    const status = proxyRes.statusCode ?? 502;
    flight.options.onUpstreamStatus?.(status);
    const answer = () => sendAnswer(proxyRes, req, res, {
      rewrites: flight.rewrites, ctx: flight.ctx, maxRewriteBytes, log: flight.log, buffers,
      unavailable: (f) => {
        flight.log.logger.warn({ err: f.message }, 'answer not rewritten: state store unavailable');
        proxyRes.resume();
        sendFault(req, res, flight.options.requestId, f.status, f.message);
      },
    });
    const effect = postAnswerEffect(store, flight.options, status);
    // the answer waits for the effect, so a caller who reads right after it sees the change
    if (effect) effect.catch((err: unknown) => { flight.log.logger.warn({ err: (err as Error).message }, 'post-answer effect failed'); }).then(answer);
    else answer();
  });
  proxy.on('econnreset', (err, req) => {
    inFlight.get(req)?.log.logger.info({ err: err.message }, 'caller went away');
  });
  proxy.on('error', () => { /* every web() call has its own error callback */ });

  function onError(err: Error, req: IncomingMessage, res: ServerResponse | unknown): void {
    const flight = inFlight.get(req);
    const response = res as ServerResponse;
    if (!flight) { response.destroy(); return; }
    const kind = classifyUpstreamError(err);
    const code = (err as { code?: string }).code;
    if (!response.headersSent && !response.destroyed && flight.replayable && !flight.retried
      && (code === 'ECONNRESET' || code === 'EPIPE')) {
      // the upstream closed the connection before any answer, most often an idle keep-alive one just as it was
      // reused: the request is idempotent and its body held (or none), so it is sent again, once
      flight.retried = true;
      flight.log.logger.info({ err: err.message }, 'stale upstream connection, sending again');
      flight.call.body ??= Buffer.alloc(0);
      send(req, response, flight.call);
      return;
    }
    if (response.headersSent) {
      // the answer was already streaming: the only honest thing left is to cut the connection
      flight.log.logger.warn({ err: err.message }, 'upstream failed mid-answer');
      response.destroy();
      return;
    }
    if (response.destroyed) return;
    const f = kind === 'timeout' ? fault('upstreamTimeout') : fault('upstreamUnavailable', { reason: upstreamFailureReason(err) });
    flight.log.logger.warn({ err: err.message, code, status: f.status }, 'upstream failed');
    sendFault(req, response, flight.options.requestId, f.status, f.message);
  }

  function start(req: IncomingMessage, res: ServerResponse, options: ForwardOptions, translated: boolean, v2ByTranslation: boolean): void {
    const { target } = options;
    const origin = publicOrigin(req, base.host);
    const ctx: RewriteContext = {
      method: target.method, target, translated, v2ByTranslation,
      injectBackupStatus: options.injectBackupStatus, overlays, cachedOverlays,
      extensions: deps.extensions, publicBase: `${origin.proto}://${origin.host}`,
    };
    const rewrites = selectRewrites(ctx, deps.rewrites);
    // the target the route table read, under the upstream's mount path: a dot segment cannot climb out of it
    const upstream = prefix + (translated ? asV3(target) : target.sent);
    if (debugging) {
      options.log.logger.debug({ method: req.method, url: req.url, upstream, translated,
        rewrites: rewrites.map((r) => r.name) }, 'forwarding');
    }
    const call: UpstreamCall = {
      path: upstream,
      headers: outgoingHeaders(req, { translated, bodyLength: options.body?.length, identity: rewrites.length > 0, origin }),
      streamBody: options.body === undefined && streamsBody(req),
      ...(options.body ? { body: options.body } : {}),
    };
    const replayable = IDEMPOTENT.has(ctx.method) && !call.streamBody;
    inFlight.set(req, {
      options, ctx, rewrites, call, replayable, retried: false, log: options.log,
    });
    send(req, res, call);
  }

  function forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): void {
    const callerVersion = options.target.version;
    // only /v2 requests and the root version list depend on whether the upstream serves v2
    if (callerVersion !== 'v2' && !(callerVersion === null && options.target.versionDocument)) {
      start(req, res, options, false, false);
      return;
    }
    versions.apiVersionFor('v2').then(
      (ver) => start(req, res, options, callerVersion === 'v2' && ver === 'v3', ver === 'v3'),
      (err: unknown) => {
        // GET / is forwarded anyway (the upstream answers for itself); /v2 cannot be routed without knowing
        if (callerVersion !== 'v2') { start(req, res, options, false, false); return; }
        const f = err instanceof CinderFault ? err : fault('upstreamUnavailable', { reason: String(err) });
        options.log.logger.warn({ err: f.message }, 'cannot tell whether the upstream serves v2');
        sendFault(req, res, options.requestId, f.status, f.message);
      },
    );
  }

  async function ready(): Promise<boolean> {
    try {
      const answer = await smallRequest({
        agent, url: new URL(`${prefix}/`, base), timeoutMs: config.upstream.connectTimeoutMs,
        headers: { accept: 'application/json' }, signal: AbortSignal.timeout(config.upstream.connectTimeoutMs),
      });
      return answer.status < 500;
    } catch {
      return false;
    }
  }

  return {
    forward,
    upstreamApiVersion: (callerVersion) => versions.apiVersionFor(callerVersion),
    ready,
    close: () => { agent.destroy(); void client.close(); },
  };
}

/**
 * A /v2 target as the v3 one Cinder reads the same way. The literal `/v2` prefix is swapped in place (the rest
 * is sent as the route table read it); any other spelling of it (`//v2`, `/%762`) is sent in its decoded form,
 * segment by segment encoded again.
 */
function asV3(target: CinderTarget): string {
  const url = target.sent;
  if (/^\/v2(?=\/|$|\?)/.test(url)) return `/v3${url.slice(3)}`;
  const q = url.indexOf('?');
  const segments = decodePath(target.rawPath).replace(/\/{2,}/g, '/').split('/').slice(2);
  return `/v3${segments.map((s) => `/${encodeSegment(s)}`).join('')}${q === -1 ? '' : url.slice(q)}`;
}

