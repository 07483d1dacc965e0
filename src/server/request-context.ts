import type { IncomingMessage, ServerResponse } from 'node:http';
import { newRequestId } from '../errors.js';
import { LazyChildLogger, type LoggerSource } from '../log.js';

/**
 * What every handler knows about the request it serves: its own `req-<uuid>` and a child logger carrying it
 * (made on first use), so every log line of the request names it. The proxy's own answers carry the id in
 * x-openstack-request-id (see respond.ts).
 */
export class RequestContext extends LazyChildLogger {
  constructor(
    /** The logger the request's loggers are children of: it binds no module (each child names its own). */
    root: LoggerSource,
    readonly requestId: string,
    /** Whether the per-request completion line is logged (info level), known without making the child logger. */
    readonly logsRequests: boolean,
  ) {
    super(root, { module: 'server', requestId });
  }

  /**
   * The request's logger for another module's lines: that module and this request's id. A child of this
   * context's own logger would carry `module` twice (pino writes every binding), which a strict JSON reader refuses.
   */
  forModule(module: string): LoggerSource {
    return new LazyChildLogger(this.parent, { module, requestId: this.requestId });
  }
}

const CONTEXT = Symbol('stx-request-context');

type WithContext = IncomingMessage & { [CONTEXT]?: RequestContext };

/** Give the request its context (id and lazy logger), found again with contextOf(). */
export function attachContext(req: IncomingMessage, root: LoggerSource): RequestContext {
  const ctx = new RequestContext(root, newRequestId(), root.logger.isLevelEnabled('info'));
  (req as WithContext)[CONTEXT] = ctx;
  return ctx;
}

export function contextOf(req: IncomingMessage): RequestContext {
  const ctx = (req as WithContext)[CONTEXT];
  if (!ctx) throw new Error('request context missing: attachContext must run first');
  return ctx;
}

/** Log one line per finished request (status, duration) and report it to the metrics. */
export function logCompletion(
  req: IncomingMessage, res: ServerResponse, ctx: RequestContext, onDone: (status: number) => void,
): void {
  const started = performance.now();
  res.once('close', () => {
    onDone(res.statusCode);
    if (!ctx.logsRequests) return;
    const ms = performance.now() - started;
    ctx.logger.info({ method: req.method, url: req.url, status: res.statusCode, ms: Math.round(ms * 10) / 10,
      aborted: !res.writableFinished }, 'request');
  });
}
