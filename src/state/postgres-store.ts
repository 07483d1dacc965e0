import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { JOB_FAILURES } from '../errors.js';
import type { Logger } from '../log.js';
import { migratePostgres } from './postgres-migrations.js';
import { CHANNEL, payloadOf, startListener } from './postgres-notify.js';
import { asUnavailable, isConnectionError } from './postgres-errors.js';
import { finishUpdates, heldVolume, oneLine, overlayOf, startUpdates } from './rules.js';
import { finishAllowed, Listeners, toJob, type JobRow } from './rows.js';
import type {
  BackupStatusUpdate, Claim, Job, JobFinish, ListJobsOptions, LeaseState, NewJob, Renewal, ResourceOverlay,
  ResourceType, StateStore, StoreEvent,
} from './types.js';

export interface PostgresStoreOptions {
  connectionString: string;
  poolSize: number;
  logger: Logger;
  /** The clock (epoch ms) for leases and timestamps; tests inject one. */
  now?: () => number;
  /** A query that takes longer fails as `stateUnavailable` (a paused or cut-off server). */
  queryTimeoutMs?: number;
}

const ACTIVE = `state IN ('queued', 'running')`;
type Db = pg.Pool | pg.PoolClient;
type Change = Pick<Job, 'resourceType' | 'resourceId'>;

/**
 * The shared store: PostgreSQL through a pool. Claims use `FOR UPDATE SKIP LOCKED`, so replicas never take
 * the same job; every change is announced with NOTIFY (in the writing transaction), which each replica's
 * listener turns into store events (cache invalidation, waking the engine).
 */
export class PostgresStateStore implements StateStore {
  private readonly pool: pg.Pool;
  private readonly now: () => number;
  private readonly listeners = new Listeners<StoreEvent>();
  private readonly listener: ReturnType<typeof startListener>;

  private constructor(options: PostgresStoreOptions) {
    this.now = options.now ?? Date.now;
    const timeout = options.queryTimeoutMs ?? 5000;
    this.pool = new pg.Pool({
      connectionString: options.connectionString, max: options.poolSize, keepAlive: true,
      connectionTimeoutMillis: timeout, query_timeout: timeout, idleTimeoutMillis: 30_000,
    });
    // an idle connection the server dropped: the pool forgets it, the next query opens another
    this.pool.on('error', (err) => options.logger.warn({ err: err.message }, 'idle state connection lost'));
    this.listener = startListener({ connectionString: options.connectionString, logger: options.logger, emit: (e) => this.listeners.emit(e) });
  }

  /** Connect and migrate; rejects if the database cannot be reached (the caller retries). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStateStore> {
    const store = new PostgresStateStore(options);
    try {
      const applied = await migratePostgres(store.pool);
      if (applied > 0) options.logger.info({ applied }, 'state schema migrated');
      // ready once it hears the other replicas (the listener retries by itself)
      await store.listener.ready;
      return store;
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  private async run<T>(work: () => Promise<T>): Promise<T> {
    try { return await work(); } catch (err) { throw asUnavailable(err); }
  }

  /** One transaction on one pooled connection; changes are announced locally once it committed. */
  private tx<T>(work: (c: pg.PoolClient, changes: Change[]) => Promise<T>): Promise<T> {
    return this.run(async () => {
      const c = await this.pool.connect();
      const changes: Change[] = [];
      let broken: unknown;
      // a checked-out client has no listener of the pool's: a socket that dies mid-transaction would
      // emit an unhandled 'error' and end the process (the query itself rejects as well)
      const onError = (err: Error) => { broken ??= err; };
      c.on('error', onError);
      try {
        await c.query('BEGIN');
        const out = await work(c, changes);
        for (const ch of changes) await this.notify(c, { kind: 'resource', ...ch });
        await c.query('COMMIT');
        for (const ch of changes) this.listeners.emit({ kind: 'resource', ...ch });
        return out;
      } catch (err) {
        broken = err;
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        // a connection that broke is destroyed, not handed to the next caller
        c.removeListener('error', onError);
        c.release(isConnectionError(broken) ? (broken as Error) : undefined);
      }
    });
  }

  private async notify(db: Db, event: StoreEvent): Promise<void> {
    await db.query('SELECT pg_notify($1, $2)', [CHANNEL, payloadOf(event)]);
  }

  private async writeStatus(db: Db, u: BackupStatusUpdate, changes: Change[]): Promise<void> {
    await db.query(`INSERT INTO backup_status (resource_type, resource_id, backup_status, status_override, updated_at)
      VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (resource_type, resource_id) DO UPDATE SET backup_status = excluded.backup_status,
        status_override = CASE WHEN $6 THEN backup_status.status_override ELSE excluded.status_override END,
        updated_at = excluded.updated_at`,
    [u.resourceType, u.resourceId, u.backupStatus, u.statusOverride ?? null, new Date(this.now()).toISOString(), u.statusOverride === undefined]);
    changes.push({ resourceType: u.resourceType, resourceId: u.resourceId });
  }

  private async one(db: Db, sql: string, params: unknown[]): Promise<Job | undefined> {
    const { rows } = await db.query<JobRow>(sql, params);
    return rows[0] ? toJob(rows[0]) : undefined;
  }

  async createJob(input: NewJob): Promise<Job | null> {
    const now = new Date(this.now());
    try {
      const job = await this.tx(async (c, changes) => {
        const created = (await this.one(c, `INSERT INTO jobs (id, kind, resource_type, resource_id, project_id, volume_id, backend,
          state, params, bytes_total, request_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $9, $10, $11) RETURNING *`,
        [randomUUID(), input.kind, input.resourceType, input.resourceId, input.projectId, heldVolume(input), input.backend,
          JSON.stringify(input.params), input.bytesTotal, input.requestId ?? null, now.toISOString()]))!;
        changes.push(created);
        for (const u of startUpdates(input, now)) await this.writeStatus(c, u, changes);
        await this.notify(c, { kind: 'queued' });
        return created;
      });
      this.listeners.emit({ kind: 'queued' });
      return job;
    } catch (err) {
      // the partial unique index: another unfinished job holds the volume
      if ((err as { code?: string }).code === '23505') return null;
      throw err;
    }
  }

  getJob(id: string): Promise<Job | undefined> {
    return this.run(() => this.one(this.pool, 'SELECT * FROM jobs WHERE id = $1', [id]));
  }

  listJobs(options: ListJobsOptions = {}): Promise<Job[]> {
    return this.run(async () => {
      const where = options.unfinishedOnly ? `WHERE ${ACTIVE}` : '';
      const { rows } = await this.pool.query<JobRow>(`SELECT * FROM jobs ${where} ORDER BY seq DESC LIMIT $1`, [options.limit ?? null]);
      return rows.map(toJob).reverse();
    });
  }

  activeJobFor(resourceType: ResourceType, resourceId: string): Promise<Job | undefined> {
    return this.run(() => this.one(this.pool, `SELECT * FROM jobs WHERE resource_type = $1 AND resource_id = $2 AND ${ACTIVE}`,
      [resourceType, resourceId]));
  }

  claimNext(claim: Claim): Promise<Job | undefined> {
    const now = this.now();
    return this.tx(async (c, changes) => {
      const job = await this.one(c, `UPDATE jobs SET state = 'running', owner = $1, started_at = $2, heartbeat_at = $3, lease_expires_at = $4
        WHERE id = (SELECT id FROM jobs WHERE state = 'queued' AND backend = ANY($5) ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
        RETURNING *`, [claim.owner, new Date(now).toISOString(), now, now + claim.leaseMs, claim.backends]);
      if (job) changes.push(job);
      return job;
    });
  }

  renewLease(id: string, r: Renewal): Promise<LeaseState> {
    const now = this.now();
    return this.tx(async (c, changes) => {
      const job = await this.one(c, `UPDATE jobs SET bytes_done = $3, bytes_total = COALESCE($4, bytes_total), heartbeat_at = $5,
        lease_expires_at = $6 WHERE id = $1 AND owner = $2 AND state = 'running' AND lease_expires_at > $5 RETURNING *`,
      [id, r.owner, r.bytesDone, r.bytesTotal ?? null, now, now + r.leaseMs]);
      if (job) changes.push(job);
      return { held: job !== undefined, cancelRequested: job?.cancelRequested ?? false };
    });
  }

  async setFileName(id: string, fileName: string): Promise<void> {
    await this.run(() => this.pool.query('UPDATE jobs SET file_name = $2 WHERE id = $1', [id, fileName]));
  }

  private async finishIn(c: pg.PoolClient, changes: Change[], id: string, finish: JobFinish): Promise<boolean> {
    const job = await this.one(c, 'SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [id]);
    if (!job || !finishAllowed(job, finish)) return false;
    const now = new Date(this.now());
    const failed = finish.state === 'failed';
    await c.query(`UPDATE jobs SET state = $2, error = $3, error_code = $4, file_name = COALESCE($5, file_name), finished_at = $6
      WHERE id = $1`, [id, finish.state, failed ? oneLine(finish.error) : null, failed ? finish.errorCode : null,
      failed ? null : finish.fileName ?? null, now.toISOString()]);
    changes.push(job);
    for (const u of finishUpdates(job, finish, now)) await this.writeStatus(c, u, changes);
    return true;
  }

  finishJob(id: string, finish: JobFinish): Promise<boolean> {
    return this.tx((c, changes) => this.finishIn(c, changes, id, finish));
  }

  expiredJobs(nowMs: number): Promise<Job[]> {
    return this.run(async () => {
      const { rows } = await this.pool.query<JobRow>(`SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at <= $1 ORDER BY seq`, [nowMs]);
      return rows.map(toJob);
    });
  }

  requestCancel(id: string): Promise<boolean> {
    return this.tx(async (c, changes) => {
      const job = await this.one(c, 'SELECT * FROM jobs WHERE id = $1 FOR UPDATE', [id]);
      if (job?.state === 'queued') return this.finishIn(c, changes, id, { state: 'failed', error: JOB_FAILURES.cancelled, errorCode: 'cancelled' });
      if (job?.state !== 'running') return false;
      await c.query('UPDATE jobs SET cancel_requested = true WHERE id = $1', [id]);
      changes.push(job);
      return true;
    });
  }

  async overlay(resourceType: ResourceType, resourceId: string): Promise<ResourceOverlay> {
    return (await this.overlays(resourceType, [resourceId])).get(resourceId)!;
  }

  overlays(resourceType: ResourceType, resourceIds: readonly string[]): Promise<Map<string, ResourceOverlay>> {
    return this.run(async () => {
      const out = new Map<string, ResourceOverlay>();
      if (resourceIds.length === 0) return out;
      const ids = [...resourceIds];
      const [saved, active] = await Promise.all([
        this.pool.query<{ resource_id: string; backup_status: string; status_override: string | null }>(
          'SELECT resource_id, backup_status, status_override FROM backup_status WHERE resource_type = $1 AND resource_id = ANY($2)',
          [resourceType, ids]),
        this.pool.query<JobRow>(`SELECT * FROM jobs WHERE resource_type = $1 AND resource_id = ANY($2) AND ${ACTIVE}`, [resourceType, ids]),
      ]);
      const savedBy = new Map(saved.rows.map((s) => [s.resource_id, s]));
      const activeBy = new Map(active.rows.map((r) => [r.resource_id, toJob(r)]));
      for (const id of resourceIds) {
        const s = savedBy.get(id);
        out.set(id, overlayOf(s && { backupStatus: s.backup_status, statusOverride: s.status_override }, activeBy.get(id)));
      }
      return out;
    });
  }

  async clearStatusOverride(resourceType: ResourceType, resourceId: string): Promise<void> {
    await this.tx(async (c, changes) => {
      await c.query('UPDATE backup_status SET status_override = NULL WHERE resource_type = $1 AND resource_id = $2', [resourceType, resourceId]);
      changes.push({ resourceType, resourceId });
    });
  }

  async ping(): Promise<void> {
    await this.run(() => this.pool.query('SELECT 1'));
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.pool.end().catch(() => {});
  }
}
