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
  backendFor(host: string | null): Backend;
  compress: Compressor;
  /** Data moved: keeps the job's stall watchdog quiet. */
  touch(): void;
  /** Volume bytes read or written (not the import's verify pass): counted in the metrics. */
  moved(bytes: number): void;
}
