import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Config } from '../config/schema.js';
import type { CallerContext, CinderApi } from '../cinder/types.js';
import { fault } from '../errors.js';
import { targetParser, type CinderTarget } from '../cinder/path.js';
import {
  attachmentCreateConflict, backupCreateConflict, backupRestoreConflict, refuseIfHeld, snapshotCreateConflict,
  snapshotDeleteConflict, unknownMutationConflicts, volumeActionConflict, volumeCreateConflict, volumeDeleteConflict,
  type ConflictCheck,
} from '../extensions/conflicts.js';
import { findAction, findExtension } from '../extensions/index.js';
import type { Logger, LoggerSource } from '../log.js';
import type { ForwardOptions, Forwarder } from '../proxy/contract.js';
import type { JobEngine, StateStore } from '../state/types.js';
import { BodyRejected, parseJsonObject, readLimitedBody } from './body.js';
import { createMetrics, type Metrics } from './metrics.js';
import { checkReadiness } from './readiness.js';
import { attachContext, contextOf as ctxOf, logCompletion, type RequestContext } from './request-context.js';
import { sendError, sendJson } from './respond.js';
import { classify, type RouteMatch } from './routes.js';

/** Everything the app works with, built by the composition root (src/main.ts) or a test. */
export interface AppDeps {
  config: Config;
  store: StateStore;
  engine: JobEngine;
  cinder: CinderApi;
  forwarder: Forwarder;
  logger: Logger;
  /** True once shutdown began: new jobs are refused with 503, everything else is still served. */
  draining?: () => boolean;
  /** Built by the composition root when the engine reports into them too; else made here. */
  metrics?: Metrics;
}

export interface ProxyApp {
  /** The express app serving the operations endpoints. */
  app: Express;
  metrics: Metrics;
  /** The server's request listener: operations endpoints through express, the API straight from the route table. */
  listener: (req: IncomingMessage, res: ServerResponse) => void;
}

/**
 * The request listener. API paths are dispatched from the route table without express: express 5 re-parents
 * every request and response object, which on the pass-through path cost more than the forwarding itself.
 * The operations endpoints are an express app. No body parsing anywhere (the forwarder streams).
 */
export function createApp(deps: AppDeps): ProxyApp {
  const rootLog: LoggerSource = { logger: deps.logger };
  const metrics = deps.metrics ?? createMetrics(deps.store);
  const parseTarget = targetParser(deps.config.api.projectIdPattern);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const ctx = attachContext(req, rootLog);
    const ops = (req.method === 'GET' || req.method === 'HEAD') && isOpsPath(req.url);
    const target = ops ? undefined : parseTarget(req.method, req.url, req.headers['content-type']);
    const route = target && classify(target);
    logCompletion(req, res, ctx, (status) => metrics.countRequest(route?.kind ?? 'ops', status));
    if (!target || !route) { app(req, res); return; }
    const fail = (err: unknown) => {
      if (res.destroyed) { ctx.logger.info({ err: (err as Error).message }, 'client went away'); return; }
      const rejected = err instanceof BodyRejected;
      sendError(res, ctx, rejected ? err.fault : err, rejected);
    };
    // most requests are plain forwards: no promise for them
    if (route.kind === 'forward' || route.kind === 'harmless-update') {
      try { forwarding(deps, metrics, req, res, target, route, ctx)(); } catch (err) { fail(err); }
      return;
    }
    handle(deps, metrics, req, res, target, route, ctx).catch(fail);
  };

  app.get('/healthz', (req, res) => { sendJson(res, ctxOf(req), 200, { status: 'ok' }); });
  app.get('/readyz', (req, res) => {
    const ctx = ctxOf(req);
    checkReadiness(deps.forwarder, deps.store).then(
      (r) => sendJson(res, ctx, r.ready ? 200 : 503, r.body),
      (err: unknown) => sendError(res, ctx, err),
    );
  });
  app.get('/metrics', (req, res) => {
    metrics.registry.metrics().then((text) => {
      res.setHeader('Content-Type', metrics.registry.contentType);
      res.setHeader('x-openstack-request-id', ctxOf(req).requestId);
      res.end(text);
    }, (err: unknown) => sendError(res, ctxOf(req), err));
  });
  return { app, metrics, listener };
}

/** The operations endpoints (compared, not looked up in a set: that would hash every request's URL). */
function isOpsPath(url: string | undefined): boolean {
  const u = url ?? '/';
  const q = u.indexOf('?');
  const path = q === -1 ? u : u.slice(0, q);
  return path === '/healthz' || path === '/readyz' || path === '/metrics';
}

/** The calls that need a decision before they go upstream (plain forwards never come here: see the listener). */
async function handle(
  deps: AppDeps, metrics: Metrics, req: IncomingMessage, res: ServerResponse, target: CinderTarget, route: RouteMatch,
  ctx: RequestContext,
): Promise<void> {
  const { config } = deps;
  const forward = forwarding(deps, metrics, req, res, target, route, ctx);
  const caller: CallerContext = { headers: req.headers, requestId: ctx.requestId };
  const id = route.id ?? '';

  switch (route.kind) {
    case 'mutation':
      // a change the table does not know: if it names a held volume or snapshot, what it would do is unknown
      await refuseIfHeld(deps, route.projectId, caller, unknownMutationConflicts(target.rest));
      forward();
      return;
    case 'extension-show': {
      const ext = findExtension(id);
      if (ext) sendJson(res, ctx, 200, { extension: ext }); else forward();
      return;
    }
    case 'volume-delete':
      await refuseIfHeld(deps, route.projectId, caller, volumeDeleteConflict(id));
      forward();
      return;
    case 'snapshot-delete':
      await refuseIfHeld(deps, route.projectId, caller, snapshotDeleteConflict(id));
      forward();
      return;
    default: break;
  }

  const raw = await readLimitedBody(req, config.api.maxActionBodyBytes);
  if (route.kind === 'volume-action' || route.kind === 'snapshot-action') {
    const body = parseJsonObject(raw);
    const target = route.kind === 'volume-action' ? 'volume' : 'snapshot';
    const action = findAction(target, body);
    if (!action) {
      if (target === 'volume') await refuseIfHeld(deps, route.projectId, caller, volumeActionConflict(id, body));
      forward(raw, Object.hasOwn(body, 'os-reset_status') ? { resourceType: target, resourceId: id } : undefined);
      return;
    }
    if (deps.draining?.()) throw fault('shuttingDown');
    ctx.logger.info({ action: action.key, [`${target}Id`]: id }, 'extension action');
    const result = await action.handler(deps, { projectId: route.projectId, resourceId: id, value: body[action.key], caller, logger: ctx.logger });
    sendJson(res, ctx, result.status, result.body);
    return;
  }
  // creates that name a volume in their body: only peeked at; a body we cannot read is Cinder's to refuse
  let body: Record<string, unknown> | undefined;
  try { body = parseJsonObject(raw); } catch { body = undefined; }
  const check = BODY_CHECKS[route.kind];
  if (body && check) await refuseIfHeld(deps, route.projectId, caller, check(body, req));
  forward(raw);
}

/** The request sent on upstream (with `body` instead of the request stream when one was read). */
function forwarding(
  deps: AppDeps, metrics: Metrics, req: IncomingMessage, res: ServerResponse, target: CinderTarget, route: RouteMatch,
  ctx: RequestContext,
): (body?: Buffer, statusReset?: ForwardOptions['statusReset']) => void {
  return (body, statusReset) => {
    const sent = performance.now();
    const injectBackupStatus = !deps.config.api.requireWrsHeader || req.headers['wrs-header'] !== undefined;
    deps.forwarder.forward(req, res, {
      requestId: ctx.requestId, log: ctx.forModule('proxy'), target, injectBackupStatus, ...(body ? { body } : {}),
      ...(statusReset ? { statusReset } : {}),
      onUpstreamStatus() { metrics.upstreamLatency(route.kind, (performance.now() - sent) / 1000); },
    });
  };
}

/** Calls whose body names the volume they would read or write. */
const BODY_CHECKS: Partial<Record<RouteMatch['kind'], (body: Record<string, unknown>, req: IncomingMessage) => ConflictCheck | undefined>> = {
  'snapshot-create': (body, req) => snapshotCreateConflict(body, req.headers['openstack-api-version']),
  'attachment-create': attachmentCreateConflict,
  'volume-create': volumeCreateConflict,
  'backup-create': backupCreateConflict,
  'backup-restore': backupRestoreConflict,
};
