import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { CachedStateStore } from '../../src/state/cached-store.js';
import { migratePostgres } from '../../src/state/postgres-migrations.js';
import { PostgresStateStore } from '../../src/state/postgres-store.js';
import type { StoreEvent } from '../../src/state/types.js';
import { createTestDatabase, startGate, urlFor } from '../helpers/postgres.js';
import { exportJob, storeContract, testClock } from './store-contract.js';

const dropped: Array<() => Promise<void>> = [];
// in parallel, with time to spare: DROP DATABASE is slow on a loaded machine
afterAll(() => Promise.all(dropped.splice(0).map((drop) => drop())), 300_000);

async function database(): Promise<string> {
  const db = await createTestDatabase();
  dropped.push(db.drop);
  return db.url;
}

const open = async (url: string, now?: () => number) =>
  PostgresStateStore.open({ connectionString: url, poolSize: 4, logger: silentLogger(), queryTimeoutMs: 2000, ...(now ? { now } : {}) });

storeContract('postgres', async (clock) => open(await database(), clock.now));
storeContract('cached postgres', async (clock) => new CachedStateStore(await open(await database(), clock.now), 100, 1000));

describe('postgres: several replicas on one database', () => {
  it('migrates once when two replicas start at the same moment', async () => {
    const url = await database();
    const [a, b] = await Promise.all([open(url), open(url)]);
    onTestFinished(async () => { await a.close(); await b.close(); });
    expect(await a.createJob(exportJob('v1'))).not.toBeNull();
    expect(await b.createJob(exportJob('v1'))).toBeNull();
  });

  it('tells the other replica of a change within a second (NOTIFY)', async () => {
    const url = await database();
    const a = await open(url);
    const b = await open(url);
    onTestFinished(async () => { await a.close(); await b.close(); });
    const seen: StoreEvent[] = [];
    const heard = new Promise<void>((resolve) => {
      b.subscribe((e) => { seen.push(e); if (e.kind === 'resource' && e.resourceId === 'v1') resolve(); });
    });
    const started = Date.now();
    await a.createJob(exportJob('v1'));
    await heard;
    expect(Date.now() - started).toBeLessThan(1000);
    expect(seen).toContainEqual({ kind: 'queued' });
  });

  it('while the database is out of reach, calls fail as stateUnavailable; it reconnects by itself', async () => {
    const db = await createTestDatabase();
    dropped.push(db.drop);
    const gate = await startGate();
    onTestFinished(() => gate.close());
    const url = urlFor(db.name, gate.port);
    const s = await open(url, testClock().now);
    onTestFinished(() => s.close());
    expect(await s.createJob(exportJob('v1'))).not.toBeNull();
    gate.down();
    await expect(s.overlays('volume', ['v1'])).rejects.toMatchObject({ kind: 'stateUnavailable', status: 503 });
    await expect(s.createJob(exportJob('v2'))).rejects.toMatchObject({ kind: 'stateUnavailable' });
    await expect(s.ping()).rejects.toThrow(/^The state store is unavailable: PostgreSQL: /);
    gate.up();
    await s.ping();
    expect((await s.overlay('volume', 'v1')).status).toBe('exporting');
  });

  it('migrations are versioned: a second run applies nothing', async () => {
    const url = await database();
    const s = await open(url);
    onTestFinished(() => s.close());
    const pool = (s as unknown as { pool: Parameters<typeof migratePostgres>[0] }).pool;
    expect(await migratePostgres(pool)).toBe(0);
  });
});
