import type pg from 'pg';

/** Numbered migrations; the `schema_migrations` table says which ran. Never edit one that shipped: add the next. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
    id text PRIMARY KEY,
    kind text NOT NULL,
    resource_type text NOT NULL,
    resource_id text NOT NULL,
    project_id text NOT NULL,
    -- the volume the job holds (a snapshot export holds its parent): one unfinished job per volume
    volume_id text NOT NULL,
    backend text NOT NULL,
    state text NOT NULL CHECK (state IN ('queued', 'running', 'succeeded', 'failed')),
    params jsonb NOT NULL,
    file_name text,
    bytes_done bigint NOT NULL DEFAULT 0,
    bytes_total bigint NOT NULL DEFAULT 0,
    error text,
    error_code text,
    request_id text,
    owner text,
    heartbeat_at bigint,
    lease_expires_at bigint,
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at text NOT NULL,
    started_at text,
    finished_at text,
    seq bigserial NOT NULL
  );
  CREATE UNIQUE INDEX jobs_one_per_volume ON jobs (volume_id) WHERE state IN ('queued', 'running');
  CREATE INDEX jobs_queue ON jobs (seq) WHERE state = 'queued';
  CREATE INDEX jobs_active_resource ON jobs (resource_type, resource_id) WHERE state IN ('queued', 'running');
  CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
  CREATE INDEX jobs_seq ON jobs (seq);
  CREATE TABLE backup_status (
    resource_type text NOT NULL,
    resource_id text NOT NULL,
    backup_status text NOT NULL,
    status_override text,
    updated_at text NOT NULL,
    PRIMARY KEY (resource_type, resource_id)
  );`,
];

/** Any fixed number: every replica takes the same lock, so two that start at once migrate one after the other. */
const MIGRATION_LOCK = 0x57_8c_1d_e0;

/** Bring the schema up to date under an advisory lock (safe when several replicas start together). */
export async function migratePostgres(pool: pg.Pool): Promise<number> {
  const client = await pool.connect();
  // checked out, the client has no listener of the pool's: a dying socket must not end the process
  let broken: Error | undefined;
  const onError = (err: Error) => { broken ??= err; };
  client.on('error', onError);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
      const done = rows[0]?.v ?? 0;
      for (let i = done; i < MIGRATIONS.length; i++) {
        await client.query('BEGIN');
        try {
          await client.query(MIGRATIONS[i]!);
          await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [i + 1]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          throw err;
        }
      }
      return MIGRATIONS.length - done;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
