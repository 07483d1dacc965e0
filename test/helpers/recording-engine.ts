import type { Job, JobEngine } from '../../src/state/types.js';

/** A JobEngine that only records what it was given. */
export class RecordingEngine implements JobEngine {
  readonly submitted: Job[] = [];
  recovered = 0;
  shutdowns: number[] = [];
  submit(job: Job): void { this.submitted.push(job); }
  async recover(): Promise<void> { this.recovered += 1; }
  async shutdown(timeoutMs: number): Promise<void> { this.shutdowns.push(timeoutMs); }
}
