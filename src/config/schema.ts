import { z } from 'zod';
import { GiB } from '../constants.js';

/** Cinder's default `project_id_regex`. */
export const DEFAULT_PROJECT_ID_PATTERN = '[0-9a-f\\-]+';

function isRegExp(source: string): boolean {
  try { new RegExp(source); return true; } catch { return false; }
}

/** Where a volume's bytes live; picked per volume by `hostPattern` on `os-vol-host-attr:host`. */
const backendCommon = {
  name: z.string().min(1),
  /** Regular expression matched against the volume's `os-vol-host-attr:host`; absent = matches none (only usable as default). */
  hostPattern: z.string().optional(),
};

/**
 * A file per volume (`file`: templates may hold `*` segments, globbed; understands the NFS driver's
 * `.info` + qcow2 overlays, so `snapshotPath` is optional) or a block device per volume (`block`: LVM,
 * loop; the size comes from Cinder). Templates take {id} (volume id), {volume_id}, {snapshot_id}.
 */
function pathBackend<T extends 'file' | 'block'>(type: T) {
  return z.object({
    ...backendCommon,
    type: z.literal(type),
    volumePath: z.string().min(1),
    snapshotPath: z.string().min(1).optional(),
  }).strict();
}

const fileBackend = pathBackend('file');
const blockBackend = pathBackend('block');

/** External commands (argv arrays, no shell) that stream a volume to stdout / from stdin. */
const commandBackend = z.object({
  ...backendCommon,
  type: z.literal('command'),
  exportCommand: z.array(z.string().min(1)).min(1),
  snapshotExportCommand: z.array(z.string().min(1)).min(1).optional(),
  importCommand: z.array(z.string().min(1)).min(1),
  /**
   * Optional: prints where the data is, a JSON list of {offset, length} (`rbd diff --format json`);
   * the rest is exported as holes. With {offset} and {length} in the export command, it is run once per
   * data range and only the data is read; without, the whole stream is read and the holes are dropped.
   */
  mapCommand: z.array(z.string().min(1)).min(1).optional(),
  snapshotMapCommand: z.array(z.string().min(1)).min(1).optional(),
}).strict();

/**
 * A file mode: an octal string ("0640", "640", "0o640") or a number (YAML `0o640`). A bare YAML 0640 is
 * the decimal 640 in YAML 1.2, hence refused with a hint. Owner read+write is needed to write the file;
 * execute, setuid and sticky bits make no sense for an archive.
 */
const fileModeSchema = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const text = typeof v === 'string' ? v.trim().replace(/^0o/i, '') : null;
  const mode = text === null ? v as number : /^[0-7]{1,4}$/.test(text) ? parseInt(text, 8) : NaN;
  const fail = (message: string) => { ctx.addIssue({ code: z.ZodIssueCode.custom, message }); return z.NEVER; };
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
    return fail(`${JSON.stringify(v)} is not an octal file mode, e.g. "0640"`);
  }
  // YAML's 0640 arrives as the number 640 (0o1200): say how to write it
  const hint = typeof v === 'number' ? ` (${v} is octal ${mode.toString(8)}; write an octal mode as a string, e.g. "0640")` : '';
  if (mode & ~0o666) return fail(`${mode.toString(8).padStart(4, '0')}: only read and write bits are allowed${hint}`);
  if ((mode & 0o600) !== 0o600) return fail(`${mode.toString(8).padStart(4, '0')}: the owner must be able to read and write`);
  return mode;
});

export const backendSchema = z.discriminatedUnion('type', [fileBackend, blockBackend, commandBackend]);

export const configSchema = z.object({
  listen: z.object({
    host: z.string().default('0.0.0.0'),
    port: z.number().int().min(0).max(65535).default(9776),
  }).strict().default({}),
  upstream: z.object({
    url: z.string().url().default('http://127.0.0.1:8776'),
    /** Refused or unreachable upstream answers 503 within this time. */
    connectTimeoutMs: z.number().int().positive().default(3000),
    /** Upstream that does not answer within this time: 504. */
    timeoutMs: z.number().int().positive().default(60000),
    /** auto: serve /v2 by translation when the upstream has no v2; native: always forward; translate: always translate. */
    v2Mode: z.enum(['auto', 'native', 'translate']).default('auto'),
    /** How long the upstream version document is trusted. */
    versionCacheMs: z.number().int().nonnegative().default(300000),
    /** Sockets kept open to the upstream. */
    maxSockets: z.number().int().positive().default(256),
  }).strict().default({}),
  /** Embedded state (SQLite) lives here. */
  dataDir: z.string().min(1).default('./data'),
  /** Archives are written here (work in <exportDir>/temp). */
  exportDir: z.string().min(1).default('/opt/backups'),
  api: z.object({
    /** Action bodies above this size get 413 overLimit (Cinder's own default is 112 KiB). */
    maxActionBodyBytes: z.number().int().positive().default(114688),
    /** Inject wrs-*:backup_status only when the request carries a `wrs-header` header. */
    requireWrsHeader: z.boolean().default(false),
    /** Cinder's `project_id_regex` (cinder.conf): a first path segment matching it is a project id, as Cinder reads it. */
    projectIdPattern: z.string().min(1).default(DEFAULT_PROJECT_ID_PATTERN).refine(isRegExp, 'not a valid regular expression'),
  }).strict().default({}),
  engine: z.object({
    /** Jobs that run at once; the rest wait in order. */
    concurrency: z.number().int().min(1).max(64).default(1),
    compression: z.enum(['gzip', 'none', 'zstd']).default('gzip'),
    gzipLevel: z.number().int().min(0).max(9).default(1),
    zstdLevel: z.number().int().min(1).max(19).default(3),
    /** Read (and checksum) the whole archive before writing a byte to the volume. */
    verifyBeforeImport: z.boolean().default(true),
    /** An export is refused when the export directory has less free space than this. */
    minFreeBytes: z.number().int().nonnegative().default(GiB),
    /** Volume bytes per second, 0 = no limit. */
    bandwidthBytesPerSec: z.number().int().nonnegative().default(0),
    /** On SIGTERM running jobs get this long to finish before they are failed. */
    shutdownTimeoutMs: z.number().int().nonnegative().default(30000),
    /** A job whose data moves not one byte for this long is failed (a hung helper or device), 0 = never. */
    stallTimeoutMs: z.number().int().nonnegative().default(600000),
    /** Mode of the archives, checksums and temp files the engine writes (octal); may widen 0600, e.g. 0640 for a backup group. */
    fileMode: fileModeSchema.default('0600'),
  }).strict().default({}),
  /** Storage backends; the first one whose hostPattern matches wins, else `defaultBackend`. */
  backends: z.array(backendSchema).default([
    { name: 'nfs', type: 'file', volumePath: '/var/lib/cinder/mnt/*/volume-{id}' },
  ]),
  defaultBackend: z.string().optional(),
  state: z.object({
    /** Resources whose overlay is kept in memory for the rewrite hot path. */
    cacheEntries: z.number().int().positive().default(10000),
    /** A `postgres://` or `postgresql://` URL: state shared by replicas in PostgreSQL. Unset: SQLite in dataDir. */
    url: z.string().regex(/^postgres(ql)?:\/\/.+/, 'must be a postgres:// or postgresql:// URL').optional(),
    /** PostgreSQL connections per replica. */
    poolSize: z.number().int().min(2).max(100).default(10),
    /** A running job's lease: another replica fails it this long after its owner stopped renewing. */
    leaseMs: z.number().int().positive().default(15000),
    /** The owner renews each running job's lease and records its progress this often. */
    renewMs: z.number().int().positive().default(1000),
    /** Every replica looks for expired leases this often. */
    sweepIntervalMs: z.number().int().positive().default(5000),
    /** This replica's name in job records; default `<hostname>:<listen.port>` (stable across restarts). */
    replicaId: z.string().min(1).max(200).optional(),
  }).strict().default({}),
  /** The operator's endpoint (the `stx-cinder-proxy` CLI talks to it); never served on the public port. */
  admin: z.object({
    /** Unix socket (mode 0600); relative to dataDir unless absolute. */
    socket: z.string().min(1).default('admin.sock'),
    /** Also listen on this TCP address (`host:port`); off by default (no authentication: bind it to loopback). */
    listen: z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'must be host:port').optional(),
  }).strict().default({}),
  /** Which archives in the export directory are deleted (by a periodic sweep and by `stx-cinder-proxy prune`). */
  retention: z.object({
    /** Keep at most this many archives per volume (the newest); 0 = no limit. */
    keepPerVolume: z.number().int().nonnegative().default(0),
    /** Delete archives older than this many days; 0 = never. */
    maxAgeDays: z.number().nonnegative().default(0),
    /** How often the sweep runs while either rule is on. */
    sweepIntervalMs: z.number().int().positive().default(3_600_000),
  }).strict().default({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).strict().default({}),
}).strict().superRefine((cfg, ctx) => {
  const names = cfg.backends.map((b) => b.name);
  if (cfg.defaultBackend !== undefined && !names.includes(cfg.defaultBackend)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['defaultBackend'], message: `no backend named "${cfg.defaultBackend}"` });
  }
  if (cfg.state.renewMs >= cfg.state.leaseMs) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['state', 'renewMs'], message: 'must be shorter than state.leaseMs' });
  }
  cfg.backends.forEach((b, i) => {
    if (b.hostPattern !== undefined && !isRegExp(b.hostPattern)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['backends', i, 'hostPattern'], message: 'not a valid regular expression' });
    }
  });
});

export type Config = z.infer<typeof configSchema>;
export type BackendConfig = z.infer<typeof backendSchema>;
