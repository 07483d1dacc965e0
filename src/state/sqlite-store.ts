import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type {
  BackupStatusUpdate, Job, JobFinish, JobKind, NewJob, ResourceOverlay, ResourceType, StateStore,
} from './types.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  project_id TEXT NOT NULL,
  state TEXT NOT NULL,
  params TEXT NOT NULL,
  file_name TEXT,
  bytes_done INTEGER NOT NULL DEFAULT 0,
  bytes_total INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  request_id TEXT,
  created_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  seq INTEGER NOT NULL
);
-- at most one unfinished job per resource, enforced by the database itself
CREATE UNIQUE INDEX IF NOT EXISTS jobs_one_active ON jobs(resource_type, resource_id)
  WHERE state IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs(state, seq);
CREATE TABLE IF NOT EXISTS backup_status (
  resource_type TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  backup_status TEXT NOT NULL,
  status_override TEXT,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (resource_type, resource_id)
);
`;

const ACTIVE_STATUS: Record<JobKind, string> = {
  'volume-export': 'exporting',
  'volume-import': 'importing',
  'snapshot-export': 'exporting',
};

interface JobRow {
  id: string; kind: JobKind; resource_type: ResourceType; resource_id: string; project_id: string;
  state: Job['state']; params: string; file_name: string | null; bytes_done: number; bytes_total: number;
  error: string | null; request_id: string | null; created_at: string; started_at: string | null; finished_at: string | null;
}

function toJob(row: JobRow): Job {
  return {
    id: row.id, kind: row.kind, resourceType: row.resource_type, resourceId: row.resource_id,
    projectId: row.project_id, state: row.state, params: JSON.parse(row.params), fileName: row.file_name,
    bytesDone: row.bytes_done, bytesTotal: row.bytes_total, error: row.error, requestId: row.request_id,
    createdAt: row.created_at, startedAt: row.started_at, finishedAt: row.finished_at,
  };
}

export function progressText(done: number, total: number): string {
  if (total <= 0) return '0%';
  return `${Math.min(100, Math.floor((done * 100) / total))}%`;
}

/** The embedded store: one SQLite file in WAL mode, synchronous=FULL so a finished job survives power loss. */
export class SqliteStateStore implements StateStore {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.stmts = {
      insertJob: this.db.prepare(`INSERT INTO jobs (id, kind, resource_type, resource_id, project_id, state, params,
        bytes_total, request_id, created_at, seq)
        VALUES (@id, @kind, @resourceType, @resourceId, @projectId, 'queued', @params, @bytesTotal, @requestId, @createdAt,
        (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs))`),
      getJob: this.db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?'),
      unfinished: this.db.prepare<[], JobRow>(`SELECT * FROM jobs WHERE state IN ('queued', 'running') ORDER BY seq`),
      activeFor: this.db.prepare<[string, string], JobRow>(
        `SELECT * FROM jobs WHERE resource_type = ? AND resource_id = ? AND state IN ('queued', 'running')`),
      // the documented contract: one unfinished job per volume too (a snapshot export holds its parent volume),
      // so two jobs never write archives of the same volume at once
      activeForVolume: this.db.prepare<[string], { id: string }>(
        `SELECT id FROM jobs WHERE state IN ('queued', 'running') AND json_extract(params, '$.volumeId') = ?`),
      markRunning: this.db.prepare(`UPDATE jobs SET state = 'running', started_at = ? WHERE id = ? AND state = 'queued'`),
      progress: this.db.prepare('UPDATE jobs SET bytes_done = ?, bytes_total = COALESCE(?, bytes_total) WHERE id = ?'),
      fileName: this.db.prepare('UPDATE jobs SET file_name = ? WHERE id = ?'),
      finish: this.db.prepare(`UPDATE jobs SET state = @state, error = @error, file_name = COALESCE(@fileName, file_name),
        finished_at = @finishedAt WHERE id = @id AND state IN ('queued', 'running')`),
      upsertStatus: this.db.prepare(`INSERT INTO backup_status (resource_type, resource_id, backup_status, status_override, updated_at)
        VALUES (@resourceType, @resourceId, @backupStatus, @statusOverride, @updatedAt)
        ON CONFLICT (resource_type, resource_id) DO UPDATE SET backup_status = excluded.backup_status,
          status_override = CASE WHEN @keepOverride THEN backup_status.status_override ELSE excluded.status_override END,
          updated_at = excluded.updated_at`),
      clearOverride: this.db.prepare(
        'UPDATE backup_status SET status_override = NULL WHERE resource_type = ? AND resource_id = ?'),
      getStatus: this.db.prepare<[string, string], { backup_status: string; status_override: string | null }>(
        'SELECT backup_status, status_override FROM backup_status WHERE resource_type = ? AND resource_id = ?'),
    };
  }

  private writeStatus(u: BackupStatusUpdate): void {
    this.stmts.upsertStatus.run({
      resourceType: u.resourceType, resourceId: u.resourceId, backupStatus: u.backupStatus,
      statusOverride: u.statusOverride ?? null, keepOverride: u.statusOverride === undefined ? 1 : 0,
      updatedAt: new Date().toISOString(),
    });
  }

  createJob(input: NewJob): Job | null {
    const id = randomUUID();
    const create = this.db.transaction(() => {
      if (this.stmts.activeFor.get(input.resourceType, input.resourceId)) return false;
      if (this.stmts.activeForVolume.get(input.params.volumeId)) return false;
      this.stmts.insertJob.run({
        id, kind: input.kind, resourceType: input.resourceType, resourceId: input.resourceId,
        projectId: input.projectId, params: JSON.stringify(input.params), bytesTotal: input.bytesTotal,
        requestId: input.requestId ?? null, createdAt: new Date().toISOString(),
      });
      for (const u of input.backupStatus) this.writeStatus(u);
      return true;
    });
    return create.immediate() ? this.getJob(id)! : null;
  }

  getJob(id: string): Job | undefined {
    const row = this.stmts.getJob.get(id);
    return row ? toJob(row) : undefined;
  }

  listUnfinished(): Job[] {
    return this.stmts.unfinished.all().map(toJob);
  }

  activeJobFor(resourceType: ResourceType, resourceId: string): Job | undefined {
    const row = this.stmts.activeFor.get(resourceType, resourceId);
    return row ? toJob(row) : undefined;
  }

  markRunning(id: string): void {
    this.stmts.markRunning.run(new Date().toISOString(), id);
  }

  setProgress(id: string, bytesDone: number, bytesTotal?: number): void {
    this.stmts.progress.run(bytesDone, bytesTotal ?? null, id);
  }

  setFileName(id: string, fileName: string): void {
    this.stmts.fileName.run(fileName, id);
  }

  finishJob(id: string, finish: JobFinish): void {
    this.db.transaction(() => {
      const changed = this.stmts.finish.run({
        id, state: finish.state, error: finish.error ?? null, fileName: finish.fileName ?? null,
        finishedAt: new Date().toISOString(),
      }).changes;
      // a job finishes once: a late second finish must not overwrite the first one's backup_status
      if (changed > 0) for (const u of finish.backupStatus) this.writeStatus(u);
    }).immediate();
  }

  overlay(resourceType: ResourceType, resourceId: string): ResourceOverlay {
    const saved = this.stmts.getStatus.get(resourceType, resourceId);
    const active = this.stmts.activeFor.get(resourceType, resourceId);
    return {
      backupStatus: saved?.backup_status ?? null,
      status: active ? ACTIVE_STATUS[active.kind] : (saved?.status_override ?? null),
      progress: active ? progressText(active.bytes_done, active.bytes_total) : null,
    };
  }

  clearStatusOverride(resourceType: ResourceType, resourceId: string): void {
    this.stmts.clearOverride.run(resourceType, resourceId);
  }

  close(): void {
    this.db.close();
  }
}
