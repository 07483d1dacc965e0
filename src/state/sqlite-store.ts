import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { JOB_FAILURES } from '../errors.js';
import { finishUpdates, heldVolume, oneLine, overlayOf, startUpdates } from './rules.js';
import { finishAllowed, Listeners, toJob, type JobRow } from './rows.js';
import { migrateSqlite } from './sqlite-schema.js';
import type {
  BackupStatusUpdate, Claim, Job, JobFinish, ListJobsOptions, LeaseState, NewJob, Renewal, ResourceOverlay,
  ResourceType, StateStore, StoreEvent,
} from './types.js';

export interface SqliteStoreOptions {
  /** The clock (epoch ms) for leases and timestamps; tests inject one. */
  now?: () => number;
}

type SavedStatus = { resource_id: string; backup_status: string; status_override: string | null };

/**
 * The embedded store: one SQLite file in WAL mode, synchronous=FULL so a finished job survives power loss.
 * better-sqlite3 is synchronous; the contract is not, so every method resolves after its write committed.
 */
export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly now: () => number;
  private readonly listeners = new Listeners<StoreEvent>();

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.now = options.now ?? Date.now;
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    migrateSqlite(this.db);
    const active = `state IN ('queued', 'running')`;
    this.stmts = {
      insertJob: this.db.prepare(`INSERT INTO jobs (id, kind, resource_type, resource_id, project_id, volume_id, backend,
        state, params, bytes_total, request_id, created_at, seq)
        VALUES (@id, @kind, @resourceType, @resourceId, @projectId, @volumeId, @backend, 'queued', @params, @bytesTotal,
        @requestId, @createdAt, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs))`),
      getJob: this.db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?'),
      listAll: this.db.prepare<[number], JobRow>('SELECT * FROM jobs ORDER BY seq DESC LIMIT ?'),
      listUnfinished: this.db.prepare<[number], JobRow>(`SELECT * FROM jobs WHERE ${active} ORDER BY seq DESC LIMIT ?`),
      activeFor: this.db.prepare<[string, string], JobRow>(
        `SELECT * FROM jobs WHERE resource_type = ? AND resource_id = ? AND ${active}`),
      activeForMany: this.db.prepare<[string, string], JobRow>(
        `SELECT * FROM jobs WHERE resource_type = ? AND resource_id IN (SELECT value FROM json_each(?)) AND ${active}`),
      nextQueued: this.db.prepare<[string], JobRow>(`SELECT * FROM jobs WHERE state = 'queued'
        AND backend IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT 1`),
      claim: this.db.prepare(`UPDATE jobs SET state = 'running', owner = @owner, started_at = @startedAt,
        heartbeat_at = @now, lease_expires_at = @lease WHERE id = @id AND state = 'queued'`),
      renew: this.db.prepare<Record<string, unknown>, { cancel_requested: number }>(`UPDATE jobs SET bytes_done = @bytesDone,
        bytes_total = COALESCE(@bytesTotal, bytes_total), heartbeat_at = @now, lease_expires_at = @lease
        WHERE id = @id AND owner = @owner AND state = 'running' AND lease_expires_at > @now RETURNING cancel_requested`),
      expired: this.db.prepare<[number], JobRow>(
        `SELECT * FROM jobs WHERE state = 'running' AND lease_expires_at <= ? ORDER BY seq`),
      fileName: this.db.prepare('UPDATE jobs SET file_name = ? WHERE id = ?'),
      finish: this.db.prepare(`UPDATE jobs SET state = @state, error = @error, error_code = @errorCode,
        file_name = COALESCE(@fileName, file_name), finished_at = @finishedAt WHERE id = @id AND ${active}`),
      flagCancel: this.db.prepare(`UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'`),
      upsertStatus: this.db.prepare(`INSERT INTO backup_status (resource_type, resource_id, backup_status, status_override, updated_at)
        VALUES (@resourceType, @resourceId, @backupStatus, @statusOverride, @updatedAt)
        ON CONFLICT (resource_type, resource_id) DO UPDATE SET backup_status = excluded.backup_status,
          status_override = CASE WHEN @keepOverride THEN backup_status.status_override ELSE excluded.status_override END,
          updated_at = excluded.updated_at`),
      clearOverride: this.db.prepare(
        'UPDATE backup_status SET status_override = NULL WHERE resource_type = ? AND resource_id = ?'),
      statuses: this.db.prepare<[string, string], SavedStatus>(`SELECT resource_id, backup_status, status_override
        FROM backup_status WHERE resource_type = ? AND resource_id IN (SELECT value FROM json_each(?))`),
      ping: this.db.prepare('SELECT 1'),
    };
  }

  private writeStatus(u: BackupStatusUpdate): void {
    this.stmts.upsertStatus.run({
      resourceType: u.resourceType, resourceId: u.resourceId, backupStatus: u.backupStatus,
      statusOverride: u.statusOverride ?? null, keepOverride: u.statusOverride === undefined ? 1 : 0,
      updatedAt: new Date(this.now()).toISOString(),
    });
  }

  private changed(job: Pick<Job, 'resourceType' | 'resourceId'>, updates: BackupStatusUpdate[] = []): void {
    this.listeners.emit({ kind: 'resource', resourceType: job.resourceType, resourceId: job.resourceId });
    for (const u of updates) this.listeners.emit({ kind: 'resource', resourceType: u.resourceType, resourceId: u.resourceId });
  }

  private job(id: string): Job | undefined {
    const row = this.stmts.getJob.get(id);
    return row ? toJob(row) : undefined;
  }

  async createJob(input: NewJob): Promise<Job | null> {
    const id = randomUUID();
    const now = new Date(this.now());
    const updates = startUpdates(input, now);
    try {
      this.db.transaction(() => {
        this.stmts.insertJob.run({
          id, kind: input.kind, resourceType: input.resourceType, resourceId: input.resourceId,
          projectId: input.projectId, volumeId: heldVolume(input), backend: input.backend,
          params: JSON.stringify(input.params), bytesTotal: input.bytesTotal, requestId: input.requestId ?? null,
          createdAt: now.toISOString(),
        });
        for (const u of updates) this.writeStatus(u);
      }).immediate();
    } catch (err) {
      // the partial unique index: another unfinished job holds the volume
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return null;
      throw err;
    }
    const job = this.job(id)!;
    this.changed(job, updates);
    this.listeners.emit({ kind: 'queued' });
    return job;
  }

  async getJob(id: string): Promise<Job | undefined> {
    return this.job(id);
  }

  async listJobs(options: ListJobsOptions = {}): Promise<Job[]> {
    const limit = options.limit ?? -1;
    const rows = options.unfinishedOnly ? this.stmts.listUnfinished.all(limit) : this.stmts.listAll.all(limit);
    return rows.map(toJob).reverse();
  }

  async activeJobFor(resourceType: ResourceType, resourceId: string): Promise<Job | undefined> {
    const row = this.stmts.activeFor.get(resourceType, resourceId);
    return row ? toJob(row) : undefined;
  }

  async claimNext(claim: Claim): Promise<Job | undefined> {
    const now = this.now();
    const id = this.db.transaction(() => {
      const row = this.stmts.nextQueued.get(JSON.stringify(claim.backends));
      if (!row) return undefined;
      this.stmts.claim.run({ id: row.id, owner: claim.owner, startedAt: new Date(now).toISOString(), now, lease: now + claim.leaseMs });
      return row.id;
    }).immediate();
    if (id === undefined) return undefined;
    const job = this.job(id)!;
    this.changed(job);
    return job;
  }

  async renewLease(id: string, r: Renewal): Promise<LeaseState> {
    const now = this.now();
    const row = this.stmts.renew.get({ id, owner: r.owner, bytesDone: r.bytesDone, bytesTotal: r.bytesTotal ?? null, now, lease: now + r.leaseMs });
    const job = row ? this.job(id) : undefined;
    if (job) this.changed(job);
    return { held: row !== undefined, cancelRequested: row?.cancel_requested === 1 };
  }

  async setFileName(id: string, fileName: string): Promise<void> {
    this.stmts.fileName.run(fileName, id);
  }

  async finishJob(id: string, finish: JobFinish): Promise<boolean> {
    const now = new Date(this.now());
    const done = this.db.transaction(() => {
      const job = this.job(id);
      if (!job || !finishAllowed(job, finish)) return undefined;
      const failed = finish.state === 'failed';
      this.stmts.finish.run({
        id, state: finish.state, error: failed ? oneLine(finish.error) : null, errorCode: failed ? finish.errorCode : null,
        fileName: failed ? null : finish.fileName ?? null, finishedAt: now.toISOString(),
      });
      const updates = finishUpdates(job, finish, now);
      for (const u of updates) this.writeStatus(u);
      return { job, updates };
    }).immediate();
    if (!done) return false;
    this.changed(done.job, done.updates);
    return true;
  }

  async expiredJobs(nowMs: number): Promise<Job[]> {
    return this.stmts.expired.all(nowMs).map(toJob);
  }

  async requestCancel(id: string): Promise<boolean> {
    const job = this.job(id);
    if (job?.state === 'queued') {
      return await this.finishJob(id, { state: 'failed', error: JOB_FAILURES.cancelled, errorCode: 'cancelled' }) || this.requestCancel(id);
    }
    return this.stmts.flagCancel.run(id).changes > 0;
  }

  async overlay(resourceType: ResourceType, resourceId: string): Promise<ResourceOverlay> {
    return (await this.overlays(resourceType, [resourceId])).get(resourceId)!;
  }

  async overlays(resourceType: ResourceType, resourceIds: readonly string[]): Promise<Map<string, ResourceOverlay>> {
    const ids = JSON.stringify(resourceIds);
    const saved = new Map(this.stmts.statuses.all(resourceType, ids).map((s) => [s.resource_id, s]));
    const active = new Map(this.stmts.activeForMany.all(resourceType, ids).map((r) => [r.resource_id, toJob(r)]));
    const out = new Map<string, ResourceOverlay>();
    for (const id of resourceIds) {
      const s = saved.get(id);
      out.set(id, overlayOf(s && { backupStatus: s.backup_status, statusOverride: s.status_override }, active.get(id)));
    }
    return out;
  }

  async clearStatusOverride(resourceType: ResourceType, resourceId: string): Promise<void> {
    this.stmts.clearOverride.run(resourceType, resourceId);
    this.changed({ resourceType, resourceId });
  }

  async ping(): Promise<void> {
    this.stmts.ping.get();
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
