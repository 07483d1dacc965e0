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
  /** This replica's id (config/replica.ts replicaIdOf); job owner and temp file tag. */
  replicaId: string;
  /** The clock (epoch ms) for leases and sweeps; tests inject one. */
  now?: () => number;
  /**
   * The store belongs to this process alone (the embedded SQLite, under its process lock): at start every
   * running job and every temp file is a dead process's, whoever it was. Shared stores leave this false.
   */
  soleOwner?: boolean;
  /** How often to look for queued work besides being woken (ms). */
  pollMs?: number;
  observer?: EngineObserver;
}

/** The engine as its owner sees it: the JobEngine seam plus the periodic duties, callable on demand. */
export interface Engine extends JobEngine {
  /** Claim queued work up to engine.concurrency. */
  pull(): Promise<void>;
  /** Fail every job whose lease expired, remove its temp files. */
  sweep(): Promise<void>;
  /** Resolves once no job runs in this process. */
  idle(): Promise<void>;
}

/** Implemented by src/export/engine.ts: `export function createEngine(deps: EngineDeps): Engine`. */
export type CreateEngine = (deps: EngineDeps) => Engine;
