import { setTimeout as sleep } from 'node:timers/promises';
import { failureOf, jobFailure, type JobFailure } from '../errors.js';
import type { Job } from '../state/types.js';
import { tempTag } from './archive/atomic.js';
import { makeCompressor } from './archive/compressors.js';
import { backendRegistry, chooseBackend } from './backends/index.js';
import { removeTempFiles } from './cleanup.js';
import { noObserver, type Engine, type EngineDeps } from './contract.js';
import type { JobContext } from './context.js';
import { runExport } from './export-job.js';
import { runImport } from './import-job.js';
import { holdLease, LeaseLost } from './lease.js';
import { stallWatchdog } from './watchdog.js';

/**
 * The backend of a job queued before backends had names: what the embedded store's migration that added the
 * column gave it. Such a job is run by this (sole) replica, on the backend that would be chosen for it today;
 * left to the claim's filter, it would stay queued for ever and hold its volume.
 */
const UNNAMED_BACKEND = '';

interface Running {
  job: Job;
  controller: AbortController;
  done: Promise<void>;
}

/** Run one job to its end; returns the archive name for exports. */
async function runJob(job: Job, ctx: JobContext, signal: AbortSignal): Promise<string | undefined> {
  if (job.kind === 'volume-import') { await runImport(job, ctx, signal); return undefined; }
  return runExport(job, ctx, signal);
}

/**
 * The job engine. Jobs belong to the store: the engine claims queued ones (oldest first, only for backends
 * it has, at most engine.concurrency at once) when woken by a local submit, by the store's `queued` event
 * (PostgreSQL: NOTIFY from any replica) or by its poll; holds each claimed job's lease while data moves;
 * and sweeps: any job whose lease expired (its owner died or was cut off) is failed here.
 */
export function createEngine(deps: EngineDeps): Engine {
  const { config, store, replicaId } = deps;
  const now = deps.now ?? Date.now;
  const { leaseMs, renewMs, sweepIntervalMs } = config.state;
  const log = deps.logger.child({ module: 'export-engine', replicaId });
  const backends = backendRegistry(config);
  // and the jobs queued before backends had names (the embedded store's migration gave them UNNAMED_BACKEND)
  const claimable = [...backends.keys(), UNNAMED_BACKEND];
  /** The backend a claimed job runs on: its own, or for an unnamed one the one its volume's host chooses now. */
  const backendOf = (job: Job) => backends.get(job.backend === UNNAMED_BACKEND ? chooseBackend(config, job.params.host ?? null) : job.backend);
  const tag = tempTag(replicaId);
  const compress = makeCompressor(config.engine);
  const observer = deps.observer ?? noObserver;
  const running = new Map<string, Running>();
  const timers: NodeJS.Timeout[] = [];
  let accepting = false;
  let pulling: Promise<void> | undefined;
  let pullAgain = false;

  async function finishFailed(job: Job, failure: JobFailure): Promise<void> {
    await store.finishJob(job.id, { state: 'failed', error: failure.message, errorCode: failure.code, owner: replicaId });
  }

  function start(job: Job): void {
    const controller = new AbortController();
    const jlog = log.child({ jobId: job.id, requestId: job.requestId, kind: job.kind, resourceId: job.resourceId });
    const lease = holdLease(job, { store, owner: replicaId, leaseMs, renewMs, now, logger: jlog }, controller);
    const watchdog = stallWatchdog(config.engine.stallTimeoutMs, (idleMs) => {
      controller.abort(jobFailure('stalled', { seconds: Math.round(idleMs / 1000) }));
    });
    const began = performance.now();
    const seconds = () => (performance.now() - began) / 1000;
    const ctx: JobContext = {
      config, store, logger: jlog, backend: backendOf(job)!, compress, tempTag: tag,
      touch: watchdog.touch, progress: lease.progress, confirmLease: lease.confirm,
      moved: (n) => observer.bytesMoved(job.kind, n),
    };
    jlog.info('job started');
    const done = runJob(job, ctx, controller.signal).then(
      async (fileName) => {
        await lease.flush();
        lease.stop();
        await store.finishJob(job.id, { state: 'succeeded', fileName: fileName ?? null, owner: replicaId });
        observer.jobFinished({ kind: job.kind, outcome: 'succeeded', seconds: seconds(), errorCode: null });
        jlog.info({ fileName }, 'job succeeded');
      },
      async (err: unknown) => {
        lease.stop();
        // an abort says why (lease lost, cancel, shutdown, stall); what it broke on the way is noise
        const cause = controller.signal.aborted ? controller.signal.reason : err;
        if (cause instanceof LeaseLost) { jlog.warn({ reason: cause.message }, 'job abandoned: lease lost'); return; }
        const failure = failureOf(cause, 'backendFailed');
        await finishFailed(job, failure);
        observer.jobFinished({ kind: job.kind, outcome: 'failed', seconds: seconds(), errorCode: failure.code });
        // an aborted job's own error (and its stack) is what the abort broke, not why it failed
        jlog.warn({ ...(controller.signal.aborted ? {} : { err }), reason: failure.message, code: failure.code }, 'job failed');
      },
    ).catch((err: unknown) => { jlog.error({ err }, 'could not record job outcome'); })
      .finally(() => { watchdog.stop(); lease.stop(); running.delete(job.id); void pull(); });
    running.set(job.id, { job, controller, done });
  }

  async function claimWhileRoom(): Promise<void> {
    do {
      pullAgain = false;
      while (accepting && running.size < config.engine.concurrency) {
        const job = await store.claimNext({ owner: replicaId, backends: claimable, leaseMs });
        if (!job) break;
        if (!backendOf(job)) continue; // cannot happen: the claim filters by backend
        start(job);
      }
    } while (pullAgain && accepting);
  }

  function pull(): Promise<void> {
    if (pulling) { pullAgain = true; return pulling; }
    pulling = claimWhileRoom()
      .catch((err: unknown) => { log.warn({ err: (err as Error).message }, 'could not claim work'); })
      .finally(() => { pulling = undefined; });
    return pulling;
  }

  async function sweep(): Promise<void> {
    const at = now();
    for (const job of await store.expiredJobs(at)) {
      const failure = jobFailure('interrupted', { replica: job.owner ?? 'unknown' });
      const failed = await store.finishJob(job.id, {
        state: 'failed', error: failure.message, errorCode: failure.code, leaseExpiredBy: at,
      });
      if (!failed) continue;
      if (job.fileName && job.owner) await removeTempFiles(config.exportDir, tempTag(job.owner), job.fileName);
      log.warn({ jobId: job.id, owner: job.owner, kind: job.kind }, 'job failed: its owner stopped renewing its lease');
    }
  }

  const periodic = (ms: number, fn: () => Promise<void>) => {
    const t = setInterval(() => { fn().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'periodic engine task failed')); }, ms);
    t.unref();
    timers.push(t);
  };

  const unsubscribe = store.subscribe((event) => { if (event.kind === 'queued' && accepting) void pull(); });

  return {
    submit() { if (accepting) void pull(); },
    pull,
    sweep,

    async idle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },

    async recover() {
      // what this replica owned before it restarted (with a store of its own: whatever ran) cannot be running
      // anywhere now: fail it at once, not a lease later
      const mine = (owner: string | null) => deps.soleOwner === true || owner === replicaId || owner === null;
      for (const job of await store.listJobs({ unfinishedOnly: true })) {
        if (job.state !== 'running' || !mine(job.owner) || running.has(job.id)) continue;
        const failure = jobFailure('interrupted', { replica: job.owner ?? replicaId });
        if (await store.finishJob(job.id, { state: 'failed', error: failure.message, errorCode: failure.code })) {
          log.warn({ jobId: job.id, kind: job.kind }, 'job left unfinished by an earlier run of this replica marked failed');
        }
      }
      if (running.size === 0) await removeTempFiles(config.exportDir, deps.soleOwner === true ? null : tag);
      accepting = true;
      periodic(deps.pollMs ?? Math.min(2000, sweepIntervalMs), pull);
      periodic(sweepIntervalMs, sweep);
      await sweep().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'sweep failed'));
      await pull();
    },

    cancelLocal(jobId) {
      const r = running.get(jobId);
      if (!r) return false;
      r.controller.abort(jobFailure('cancelled'));
      return true;
    },

    async shutdown(timeoutMs) {
      accepting = false;
      unsubscribe();
      for (const t of timers.splice(0)) clearInterval(t);
      await pulling;
      // queued jobs stay queued: another replica (or this one, restarted) runs them
      const all = () => Promise.all([...running.values()].map((r) => r.done));
      const timer = new AbortController();
      const inTime = await Promise.race([all().then(() => true), sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false)]);
      timer.abort();
      if (!inTime) {
        for (const r of running.values()) r.controller.abort(jobFailure('shuttingDown', { replica: replicaId }));
        await all();
      }
    },
  };
}
