import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { JobEngine, JobKind, StateStore } from '../state/types.js';

/** What the engine tells whoever watches it (the server's metrics); the engine knows nothing of the server. */
export interface EngineObserver {
  jobFinished(e: { kind: JobKind; outcome: 'succeeded' | 'failed'; seconds: number; errorCode: string | null }): void;
  /** Volume bytes read (export) or written (import) since the last call. */
  bytesMoved(kind: JobKind, bytes: number): void;
}

export const noObserver: EngineObserver = { jobFinished() {}, bytesMoved() {} };

export interface EngineDeps {
  config: Config;
  store: StateStore;
  logger: Logger;
  observer?: EngineObserver;
}

/** Implemented by src/export/engine.ts: `export function createEngine(deps: EngineDeps): JobEngine`. */
export type CreateEngine = (deps: EngineDeps) => JobEngine;
