import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { CachedStateStore } from './cached-store.js';
import { PostgresStateStore } from './postgres-store.js';
import { SqliteStateStore } from './sqlite-store.js';

/** Whether the state is shared by replicas (a PostgreSQL URL) rather than embedded in dataDir. */
export function isSharedState(config: Pick<Config, 'state'>): boolean {
  return config.state.url !== undefined;
}

/** Where the embedded store lives. */
export function sqlitePathOf(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'state.sqlite');
}

/** The URL without its password, for log lines. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * Open PostgreSQL, retrying (with a log line each time, backing off to 10 s) while it cannot be reached:
 * a replica that starts before its database waits for it instead of crash-looping. `signal` stops the wait.
 */
export async function openPostgres(config: Config, logger: Logger, signal?: AbortSignal): Promise<PostgresStateStore> {
  const log = logger.child({ module: 'state', url: redactUrl(config.state.url!) });
  for (let attempt = 1, delay = 500; ; attempt++, delay = Math.min(delay * 2, 10_000)) {
    try {
      return await PostgresStateStore.open({ connectionString: config.state.url!, poolSize: config.state.poolSize, logger: log });
    } catch (err) {
      signal?.throwIfAborted();
      log.warn({ err: (err as Error).message, attempt, retryInMs: delay }, 'state store unreachable at start, retrying');
      await sleep(delay, undefined, signal ? { signal } : {});
    }
  }
}

/**
 * The store the config asks for, with the overlay cache in front. With PostgreSQL the cache also expires
 * entries after a second: notifications keep it fresh, the TTL bounds a missed one.
 */
export async function openStateStore(config: Config, logger: Logger, signal?: AbortSignal): Promise<CachedStateStore> {
  if (isSharedState(config)) return new CachedStateStore(await openPostgres(config, logger, signal), config.state.cacheEntries, 1000);
  return new CachedStateStore(new SqliteStateStore(sqlitePathOf(config)), config.state.cacheEntries);
}
