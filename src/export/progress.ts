import type { StateStore } from '../state/types.js';

/** Record a job's progress at most once per interval (every call is a SQLite write), and always at the end. */
export function progressReporter(store: StateStore, jobId: string, total: number, intervalMs = 1000) {
  let last = 0;
  let pending: number | undefined;
  return {
    update(done: number): void {
      pending = done;
      const now = Date.now();
      if (now - last >= intervalMs) { last = now; store.setProgress(jobId, done, total); pending = undefined; }
    },
    flush(): void {
      if (pending !== undefined) { store.setProgress(jobId, pending, total); pending = undefined; }
    },
  };
}
