import type { Job } from '../state/types.js';

/** One job as the admin endpoint shows it: the stored fields plus what an operator reads off them. */
export interface JobView {
  id: string;
  kind: Job['kind'];
  state: Job['state'];
  volumeId: string;
  snapshotId: string | null;
  fileName: string | null;
  bytesDone: number;
  bytesTotal: number;
  /** 0-100, one decimal. */
  percent: number;
  /** Average since the job started; null before it started. */
  bytesPerSec: number | null;
  /** Seconds left at that rate; null when unknown. */
  etaSeconds: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /** The replica that runs (or ran) it when replicas share a database (`state.url`); null for the embedded store. */
  owner: string | null;
}

/** `shared`: the store is a database replicas share, so which of them owns a job is worth saying. */
export function jobView(job: Job, now: Date, shared: boolean): JobView {
  const percent = job.bytesTotal > 0 ? Math.min(100, Math.floor((job.bytesDone * 1000) / job.bytesTotal) / 10) : 0;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : now.getTime();
  const elapsed = job.startedAt ? (end - Date.parse(job.startedAt)) / 1000 : 0;
  const bytesPerSec = job.startedAt && elapsed > 0 ? job.bytesDone / elapsed : null;
  const left = job.bytesTotal - job.bytesDone;
  const etaSeconds = job.state === 'running' && bytesPerSec && bytesPerSec > 0 ? Math.max(0, left / bytesPerSec) : null;
  return {
    id: job.id, kind: job.kind, state: job.state, volumeId: job.params.volumeId, snapshotId: job.params.snapshotId ?? null,
    fileName: job.fileName ?? job.params.fileName ?? null, bytesDone: job.bytesDone, bytesTotal: job.bytesTotal, percent,
    bytesPerSec, etaSeconds, createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt, error: job.error,
    owner: shared ? job.owner : null,
  };
}
