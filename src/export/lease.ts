import { jobFailure } from '../errors.js';
import type { Logger } from '../log.js';
import type { Job, StateStore } from '../state/types.js';

/** The job no longer belongs to this replica: stop, publish nothing, record nothing (a sweep fails it). */
export class LeaseLost extends Error {}

export interface LeaseDeps {
  store: StateStore;
  owner: string;
  leaseMs: number;
  renewMs: number;
  now: () => number;
  logger: Logger;
}

/**
 * The owner's side of a job's lease: every renewMs it extends the lease and records the progress in one
 * write, and aborts the job when the lease is gone (another owner, finished, lapsed while this process
 * was paused or cut off) or an operator asked to cancel.
 */
export function holdLease(job: Job, deps: LeaseDeps, controller: AbortController) {
  let done = job.bytesDone;
  let total: number | undefined;
  // until when this replica knows it holds the lease (renewals that fail to reach the store do not extend it)
  let heldUntil = deps.now() + deps.leaseMs;
  let renewing: Promise<void> | undefined;

  const abort = (reason: Error) => { if (!controller.signal.aborted) controller.abort(reason); };

  async function renewOnce(): Promise<void> {
    const started = deps.now();
    try {
      const state = await deps.store.renewLease(job.id, { owner: deps.owner, leaseMs: deps.leaseMs, bytesDone: done, ...(total !== undefined ? { bytesTotal: total } : {}) });
      if (!state.held) { abort(new LeaseLost('the job is no longer this replica\'s')); return; }
      heldUntil = started + deps.leaseMs;
      if (state.cancelRequested) abort(jobFailure('cancelled'));
    } catch (err) {
      // the store is out of reach: keep working while the lease lasts, stop when it would have lapsed
      deps.logger.warn({ err: (err as Error).message }, 'could not renew the job lease');
      if (deps.now() >= heldUntil) abort(new LeaseLost('the lease lapsed while the state store was out of reach'));
    }
  }

  const renew = () => { renewing ??= renewOnce().finally(() => { renewing = undefined; }); return renewing; };
  const timer = setInterval(() => { void renew(); }, deps.renewMs);
  timer.unref();

  return {
    progress(d: number, t?: number): void { done = d; if (t !== undefined) total = t; },
    /** Renew now and reject unless the lease is still held. */
    async confirm(): Promise<void> {
      await renewing;
      await renew();
      if (controller.signal.aborted) throw controller.signal.reason;
      if (deps.now() >= heldUntil) throw new LeaseLost('the lease could not be confirmed');
    },
    /** Record the last progress now (a job that finished shows its final figure). */
    async flush(): Promise<void> { await renewing; await renew(); },
    stop(): void { clearInterval(timer); },
  };
}
