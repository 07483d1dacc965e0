import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, JobEngine } from '../state/types.js';
import { PART_SUFFIX, TEMP_DIR } from './archive/atomic.js';
import { makeCompressor } from './archive/compressors.js';
import { backendSelector } from './backends/index.js';
import { noObserver, type EngineDeps } from './contract.js';
import type { JobContext } from './context.js';
import { runExport } from './export-job.js';
import { runImport } from './import-job.js';
import { failed, reasonOf, succeeded } from './outcome.js';
import { stallWatchdog } from './watchdog.js';

export const INTERRUPTED = 'interrupted';
export const CANCELLED = 'cancelled by operator';

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

/** The job engine: a FIFO queue, `engine.concurrency` workers, durable outcomes in the store. */
export function createEngine(deps: EngineDeps): JobEngine & { cancel(jobId: string): boolean } {
  const { config, store } = deps;
  const observer = deps.observer ?? noObserver;
  const log = deps.logger.child({ module: 'export-engine' });
  const ctx: JobContext = {
    config, store, logger: log,
    backendFor: backendSelector(config),
    compress: makeCompressor(config.engine),
    touch() {},
    moved() {},
  };
  const queue: Job[] = [];
  const running = new Map<string, Running>();
  let accepting = true;

  const finish = (job: Job, outcome: ReturnType<typeof succeeded>) => {
    try { store.finishJob(job.id, outcome); } catch (err) { log.error({ err, jobId: job.id }, 'could not record job outcome'); }
  };

  function start(job: Job): void {
    // a job finished meanwhile (e.g. by recover() of a restarted replica) is not run again
    if (store.getJob(job.id)?.state !== 'queued') return;
    const controller = new AbortController();
    const jlog = log.child({ jobId: job.id, requestId: job.requestId, kind: job.kind, resourceId: job.resourceId });
    store.markRunning(job.id);
    jlog.info('job started');
    const watchdog = stallWatchdog(config.engine.stallTimeoutMs, (idleMs) => {
      controller.abort(new Error(`stalled: no data moved for ${Math.round(idleMs / 1000)} s`));
    });
    const began = performance.now();
    const seconds = () => (performance.now() - began) / 1000;
    const moved = (n: number) => observer.bytesMoved(job.kind, n);
    const done = runJob(job, { ...ctx, logger: jlog, touch: watchdog.touch, moved }, controller.signal).then(
      (fileName) => {
        finish(job, succeeded(job, fileName));
        observer.jobFinished({ kind: job.kind, outcome: 'succeeded', seconds: seconds(), errorCode: null });
        jlog.info({ fileName }, 'job succeeded');
      },
      (err: unknown) => {
        // an abort says why (shutdown: interrupted; watchdog: stalled); what it broke on the way is noise
        const reason = controller.signal.aborted ? reasonOf(controller.signal.reason) : reasonOf(err);
        finish(job, failed(job, reason));
        observer.jobFinished({ kind: job.kind, outcome: 'failed', seconds: seconds(), errorCode: null });
        jlog.warn({ err, reason }, 'job failed');
      },
    ).finally(() => { watchdog.stop(); running.delete(job.id); pump(); });
    running.set(job.id, { job, controller, done });
  }

  function pump(): void {
    while (accepting && running.size < config.engine.concurrency && queue.length > 0) start(queue.shift()!);
  }

  return {
    // stand-in until the store's requestCancel (leases) lands: stops a job of this process
    cancel(jobId: string): boolean {
      const i = queue.findIndex((q) => q.id === jobId);
      if (i >= 0) { const [q] = queue.splice(i, 1); finish(q!, failed(q!, CANCELLED)); return true; }
      const r = running.get(jobId);
      if (!r) return false;
      r.controller.abort(new Error(CANCELLED));
      return true;
    },

    submit(job) {
      if (!accepting) {
        finish(job, failed(job, 'the service is shutting down'));
        return;
      }
      if (running.has(job.id) || queue.some((q) => q.id === job.id)) return;
      queue.push(job);
      pump();
    },

    async recover() {
      for (const job of store.listUnfinished()) {
        if (running.has(job.id) || queue.some((q) => q.id === job.id)) continue;
        finish(job, failed(job, INTERRUPTED));
        log.warn({ jobId: job.id, kind: job.kind }, 'job left unfinished by an earlier process marked failed');
      }
      const tempDir = join(config.exportDir, TEMP_DIR);
      const busy = new Set([...running.values()].map((r) => store.getJob(r.job.id)?.fileName));
      const names = await readdir(tempDir).catch(() => [] as string[]);
      for (const name of names) {
        if (!name.endsWith(PART_SUFFIX)) continue;
        const archive = name.slice(0, -PART_SUFFIX.length).replace(/\.sha256$/, '');
        if (busy.has(archive)) continue;
        await rm(join(tempDir, name), { force: true });
      }
    },

    async shutdown(timeoutMs) {
      accepting = false;
      // queued jobs never started: fail them now rather than leave them to the next start
      for (const job of queue.splice(0)) finish(job, failed(job, INTERRUPTED));
      const all = () => Promise.all([...running.values()].map((r) => r.done));
      const timer = new AbortController();
      const inTime = await Promise.race([all().then(() => true), sleep(timeoutMs, false, { signal: timer.signal }).catch(() => false)]);
      timer.abort();
      if (!inTime) {
        for (const r of running.values()) r.controller.abort(new Error(INTERRUPTED));
        await all();
      }
    },
  };
}
