import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { JobEngine, StateStore } from '../state/types.js';

export interface EngineDeps {
  config: Config;
  store: StateStore;
  logger: Logger;
}

/** Implemented by src/export/engine.ts: `export function createEngine(deps: EngineDeps): JobEngine`. */
export type CreateEngine = (deps: EngineDeps) => JobEngine;
