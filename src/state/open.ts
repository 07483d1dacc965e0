import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { CachedStateStore } from './cached-store.js';
import { SqliteStateStore } from './sqlite-store.js';

/** Whether the state is shared by replicas (a PostgreSQL URL) rather than embedded in dataDir. */
export function isSharedState(config: Pick<Config, 'state'>): boolean {
  return config.state.url !== undefined;
}

/** The store the config asks for, with the overlay cache in front. */
export async function openStateStore(config: Config, _logger: Logger): Promise<CachedStateStore> {
  const inner = new SqliteStateStore(join(config.dataDir, 'state.sqlite'));
  return new CachedStateStore(inner, config.state.cacheEntries);
}
