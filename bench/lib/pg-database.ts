import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { trackTask, untrackTask } from './cleanup.js';

/** The server the PostgreSQL runs use (BENCH_PG_URL: a URL of its maintenance database, trust or password in it). */
export const adminUrl = (env: NodeJS.ProcessEnv = process.env): string => env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function admin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try { await client.query(sql); } finally { await client.end(); }
}

export interface BenchDatabase { url: string; drop(): Promise<void> }

/** A database of the run's own (random name), dropped by `drop()` or, at the latest, by the run's cleanup. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const base = adminUrl();
  const name = `stx_bench_${randomBytes(6).toString('hex')}`;
  await admin(base, `CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const drop = async () => {
    untrackTask(drop);
    await admin(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  trackTask(drop);
  return { url: url.toString(), drop };
}
