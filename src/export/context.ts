import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { StateStore } from '../state/types.js';
import type { Compressor } from './archive/compressors.js';
import type { Backend } from './backends/types.js';

/** What a running job may use. */
export interface JobContext {
  config: Config;
  store: StateStore;
  logger: Logger;
  /** The backend the job was recorded for. */
  backend: Backend;
  compress: Compressor;
  /** This replica's temp file tag. */
  tempTag: string;
  /** Data moved: keeps the job's stall watchdog quiet. */
  touch(): void;
  /** Bytes done so far (and the total, once known); the lease renewal records them. */
  progress(done: number, total?: number): void;
  /** Resolves while this replica still holds the job's lease; rejects otherwise. Checked right before publishing. */
  confirmLease(): Promise<void>;
  /** Volume bytes read or written (not the import's verify pass): counted in the metrics. */
  moved(bytes: number): void;
}
