import type Database from 'better-sqlite3';

/**
 * The embedded store's schema, as numbered migrations (PRAGMA user_version says how many ran).
 * 1 is the schema of the first releases (written with IF NOT EXISTS, so a file they made counts as 1).
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS jobs (
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
  );`,
  // leases, codes, cancel; "one unfinished job per volume" (a snapshot export holds its parent) as a constraint
  `ALTER TABLE jobs ADD COLUMN volume_id TEXT;
  UPDATE jobs SET volume_id = json_extract(params, '$.volumeId');
  ALTER TABLE jobs ADD COLUMN backend TEXT NOT NULL DEFAULT '';
  ALTER TABLE jobs ADD COLUMN owner TEXT;
  ALTER TABLE jobs ADD COLUMN heartbeat_at INTEGER;
  ALTER TABLE jobs ADD COLUMN lease_expires_at INTEGER;
  ALTER TABLE jobs ADD COLUMN error_code TEXT;
  ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
  DROP INDEX IF EXISTS jobs_one_active;
  CREATE UNIQUE INDEX jobs_one_per_volume ON jobs(volume_id) WHERE state IN ('queued', 'running');
  CREATE INDEX jobs_resource ON jobs(resource_type, resource_id, state);`,
];

/** Run the migrations this file has not seen yet, each in its own transaction. */
export function migrateSqlite(db: Database.Database): void {
  const done = db.pragma('user_version', { simple: true }) as number;
  for (let i = done; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    }).immediate();
  }
}
