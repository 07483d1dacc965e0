import type { IncomingMessage, ServerResponse } from 'node:http';
import { CinderFault, fault, faultBody } from '../errors.js';
import type { Deletion, Retention } from '../export/retention.js';
import type { Logger } from '../log.js';
import type { Job } from '../state/types.js';
import { jobView } from './job-view.js';

/** What the admin endpoint needs of the state store (shared by every replica, so it sees all their jobs). */
export interface AdminStore {
  listJobs(opts: { unfinishedOnly?: boolean; limit?: number }): Promise<Job[]>;
  getJob(id: string): Promise<Job | undefined>;
  /** The replica that runs the job stops it (reason `cancelled by operator`). */
  requestCancel(id: string): Promise<unknown>;
}

export interface AdminDeps {
  store: AdminStore;
  retention: Pick<Retention, 'apply'>;
  /** Replicas share the store (`state.url`): the views name each job's owner replica. */
  sharedState: boolean;
  logger: Logger;
  now?: () => Date;
}

/** Finished jobs `jobs --all` shows at most, unless asked for fewer. */
const MAX_FINISHED = 1000;
const JOB_PATH = /^\/v1\/jobs\/([0-9a-fA-F-]{36})(\/cancel)?$/;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function flag(url: URL, name: string): boolean {
  const v = url.searchParams.get(name);
  return v !== null && v !== '0' && v !== 'false';
}

function limitOf(url: URL): number {
  const n = Number(url.searchParams.get('limit') ?? 20);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_FINISHED) : 20;
}

/**
 * The operator's API (JSON), served only on the admin socket / admin address:
 * - `GET /v1/jobs[?all=1&limit=N]`: unfinished jobs of every replica (with `all`, the last N finished too);
 * - `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/cancel`;
 * - `POST /v1/prune[?dryRun=1]`: apply the retention policy now.
 */
export function createAdminHandler(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const log = deps.logger.child({ module: 'admin' });
  const now = deps.now ?? (() => new Date());
  const view = (job: Job) => jobView(job, now(), deps.sharedState);

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const method = req.method ?? 'GET';
    const badMethod = () => fault('badMethod', { method, path: url.pathname });
    req.resume(); // no route takes a body
    if (url.pathname === '/v1/jobs') {
      if (method !== 'GET') throw badMethod();
      const unfinished = await deps.store.listJobs({ unfinishedOnly: true });
      const finished = flag(url, 'all')
        ? (await deps.store.listJobs({ limit: limitOf(url) + unfinished.length })).filter((j) => j.state !== 'queued' && j.state !== 'running').slice(0, limitOf(url))
        : [];
      send(res, 200, { jobs: [...unfinished, ...finished].map(view) });
      return;
    }
    if (url.pathname === '/v1/prune') {
      if (method !== 'POST') throw badMethod();
      const dryRun = flag(url, 'dryRun');
      const deleted: Deletion[] = await deps.retention.apply({ dryRun });
      log.info({ dryRun, count: deleted.length }, 'prune requested');
      send(res, 200, { dryRun, deleted });
      return;
    }
    const m = JOB_PATH.exec(url.pathname);
    if (!m) throw fault('notFound');
    const id = m[1]!.toLowerCase();
    const job = await deps.store.getJob(id);
    if (!job) throw fault('jobNotFound', { id });
    if (!m[2]) {
      if (method !== 'GET') throw badMethod();
      send(res, 200, { job: view(job) });
      return;
    }
    if (method !== 'POST') throw badMethod();
    if (job.state !== 'queued' && job.state !== 'running') throw fault('jobFinished', { id, state: job.state });
    await deps.store.requestCancel(id);
    log.info({ jobId: id, kind: job.kind, resourceId: job.resourceId }, 'job cancel requested');
    send(res, 202, { job: view((await deps.store.getJob(id)) ?? job) });
  }

  return (req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!(err instanceof CinderFault)) log.error({ err, url: req.url }, 'admin request failed');
      const f = err instanceof CinderFault ? err : fault('internal');
      if (!res.headersSent) send(res, f.status, faultBody(f.status, f.message)); else res.destroy();
    });
  };
}
