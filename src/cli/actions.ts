import { setTimeout as sleep } from 'node:timers/promises';
import type { JobView } from '../admin/job-view.js';
import type { Deletion } from '../export/retention.js';
import { adminRequest, type AdminTarget } from './admin-client.js';
import type { Output } from './jobs.js';

/**
 * `cancel JOB`: ask the proxy (whichever replica runs the job sees it within a lease renewal) and
 * wait until the job has ended; 0 when it ended cancelled.
 */
export async function cancelCommand(target: AdminTarget, jobId: string,
  opts: { json: boolean; out: Output; waitMs?: number; signal?: AbortSignal }): Promise<number> {
  await adminRequest<{ job: JobView }>(target, 'POST', `/v1/jobs/${encodeURIComponent(jobId)}/cancel`);
  const end = Date.now() + (opts.waitMs ?? 15_000);
  for (;;) {
    const { job } = await adminRequest<{ job: JobView }>(target, 'GET', `/v1/jobs/${encodeURIComponent(jobId)}`);
    const over = job.state !== 'queued' && job.state !== 'running';
    if (over || Date.now() >= end) {
      if (opts.json) opts.out.write(`${JSON.stringify(job, null, 2)}\n`);
      else if (!over) opts.out.write(`job ${job.id} did not stop yet (still ${job.state})\n`);
      else if (job.state === 'failed') opts.out.write(`job ${job.id} cancelled: ${job.error}\n`);
      else opts.out.write(`job ${job.id} had already ${job.state}\n`);
      return over && job.state === 'failed' ? 0 : 1;
    }
    await sleep(100, undefined, { signal: opts.signal });
  }
}

/** `prune [--dry-run]`: the retention policy, applied by the proxy now. */
export async function pruneCommand(target: AdminTarget, opts: { dryRun: boolean; json: boolean; out: Output }): Promise<number> {
  const answer = await adminRequest<{ dryRun: boolean; deleted: Deletion[] }>(target, 'POST', `/v1/prune${opts.dryRun ? '?dryRun=1' : ''}`);
  if (opts.json) { opts.out.write(`${JSON.stringify(answer, null, 2)}\n`); return 0; }
  const verb = opts.dryRun ? 'would delete' : 'deleted';
  for (const d of answer.deleted) opts.out.write(`${verb} ${d.name} (rule ${d.rule}, volume ${d.volumeId})\n`);
  if (answer.deleted.length === 0) opts.out.write(opts.dryRun ? 'nothing to delete\n' : 'nothing deleted\n');
  return 0;
}
