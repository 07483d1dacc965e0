import type { Config } from '../config/schema.js';
import type { CallerContext, CinderApi, ExtensionDescription } from '../cinder/types.js';
import type { Logger } from '../log.js';
import type { JobEngine, StateStore } from '../state/types.js';

/** What an action handler works with. */
export interface ActionDeps {
  config: Config;
  store: StateStore;
  engine: JobEngine;
  cinder: CinderApi;
}

export interface ActionRequest {
  /** Null for Cinder's project-less URL form: the job then records the project the resource belongs to. */
  projectId: string | null;
  /** The volume or snapshot id from the path. */
  resourceId: string;
  /** The value under the action key (`null`, an object, a string ...), as the caller sent it. */
  value: unknown;
  caller: CallerContext;
  logger: Logger;
}

export interface ActionResult {
  status: number;
  body: unknown;
}

export type ActionHandler = (deps: ActionDeps, req: ActionRequest) => Promise<ActionResult>;

/** An extension: its description and the action keys it answers on volumes and snapshots. */
export interface Extension {
  description: ExtensionDescription;
  volumeActions: Record<string, ActionHandler>;
  snapshotActions: Record<string, ActionHandler>;
}
