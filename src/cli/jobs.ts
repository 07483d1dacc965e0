import { setTimeout as sleep } from 'node:timers/promises';
import cliProgress from 'cli-progress';
import type { JobView } from '../admin/job-view.js';
import { adminRequest, type AdminTarget } from './admin-client.js';
import { duration, mbPerSec, table, when } from './format.js';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface JobsOptions {
  all: boolean;
  /** How many finished jobs `all` adds (the proxy's default: 20). */
  limit?: number;
  json: boolean;
  watch: boolean;
  out: Output;
  signal?: AbortSignal;
  /** How often `--watch` asks the proxy. */
  intervalMs?: number;
}

const unfinished = (j: JobView) => j.state === 'queued' || j.state === 'running';

export function fetchJobs(target: AdminTarget, all: boolean, limit?: number): Promise<JobView[]> {
  const query = all ? `?all=1${limit ? `&limit=${limit}` : ''}` : '';
  return adminRequest<{ jobs: JobView[] }>(target, 'GET', `/v1/jobs${query}`).then((a) => a.jobs);
}

/** The volume or snapshot a job holds, as an operator names it. */
function resource(j: JobView): string {
  return j.snapshotId ? `snapshot ${j.snapshotId}` : `volume ${j.volumeId}`;
}

/** The proxy names owners only where replicas share the database: then the owner is shown. */
function withOwners(jobs: JobView[]): boolean {
  return jobs.some((j) => j.owner !== null);
}

export function jobsTable(jobs: JobView[]): string {
  if (jobs.length === 0) return 'no jobs\n';
  const owners = withOwners(jobs);
  const header = ['ID', 'KIND', 'RESOURCE', 'STATE', 'PROGRESS', 'MB/S', 'ETA', 'STARTED', ...(owners ? ['OWNER'] : [])];
  const rows = jobs.map((j) => [j.id, j.kind, resource(j), j.state, `${j.percent.toFixed(1)}%`, mbPerSec(j.bytesPerSec),
    duration(j.etaSeconds), when(j.startedAt), ...(owners ? [j.owner ?? '-'] : [])]);
  return table(header, rows);
}

/** One line per change, for a `--watch` whose output is not a terminal (a log, a pipe). */
function plainLine(j: JobView, owners: boolean): string {
  const tail = j.state === 'failed' && j.error ? ` error=${JSON.stringify(j.error)}` : '';
  return `${new Date().toISOString()} ${j.id} ${j.kind} ${resource(j)} ${j.state} ${j.percent.toFixed(1)}% ` +
    `${mbPerSec(j.bytesPerSec)} MB/s eta ${duration(j.etaSeconds)}${owners && j.owner ? ` owner ${j.owner}` : ''}${tail}\n`;
}

/**
 * Live view of the queued and running jobs until none is left (or the signal): progress bars on a
 * terminal, a plain line per change elsewhere. Jobs that end while watched show their final state.
 */
async function watch(target: AdminTarget, opts: JobsOptions): Promise<void> {
  const tty = opts.out.isTTY === true;
  const bars = tty ? new cliProgress.MultiBar({
    stream: opts.out as NodeJS.WritableStream, hideCursor: true, clearOnComplete: false, autopadding: true, fps: 5,
    format: '{short} {kind} {state} |{bar}| {percentage}% {rate} MB/s ETA {eta_text} {resource}',
  }, cliProgress.Presets.shades_classic) : undefined;
  const shown = new Map<string, { bar?: cliProgress.SingleBar; last: string }>();
  let seen = 0;
  try {
    for (;;) {
      const now = await fetchJobs(target, false);
      const ids = new Set(now.map((j) => j.id));
      // a job that left the unfinished list has ended: show how
      const ended = await Promise.all([...shown.keys()].filter((id) => !ids.has(id)).map((id) =>
        adminRequest<{ job: JobView }>(target, 'GET', `/v1/jobs/${id}`).then((a) => a.job, () => undefined)));
      const jobs = [...now, ...ended.filter((j): j is JobView => j !== undefined)];
      const owners = withOwners(jobs);
      for (const j of jobs) {
        const key = `${j.state} ${j.percent}`;
        const entry = shown.get(j.id) ?? { last: '' };
        const payload = { short: j.id.slice(0, 8), kind: j.kind, state: j.state.padEnd(9), rate: mbPerSec(j.bytesPerSec),
          eta_text: duration(j.etaSeconds), resource: resource(j) + (owners && j.owner ? ` @${j.owner}` : '') };
        if (bars) {
          entry.bar ??= bars.create(100, 0, payload);
          entry.bar.update(j.percent, payload);
        } else if (entry.last !== key) {
          opts.out.write(plainLine(j, owners));
        }
        if (!shown.has(j.id) && entry.last === '') seen += 1;
        entry.last = key;
        shown.set(j.id, entry);
        if (!unfinished(j)) shown.delete(j.id);
      }
      if (now.length === 0) {
        bars?.stop();
        if (seen === 0) opts.out.write('no queued or running jobs\n');
        return;
      }
      await sleep(opts.intervalMs ?? 1000, undefined, { signal: opts.signal });
    }
  } finally {
    bars?.stop();
  }
}

export async function jobsCommand(target: AdminTarget, opts: JobsOptions): Promise<number> {
  if (opts.watch) {
    try { await watch(target, opts); } catch (err) { if (!opts.signal?.aborted) throw err; }
    return 0;
  }
  const jobs = await fetchJobs(target, opts.all, opts.limit);
  opts.out.write(opts.json ? `${JSON.stringify(jobs, null, 2)}\n` : jobsTable(jobs));
  return 0;
}
