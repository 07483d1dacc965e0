import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';

/** Cinder's fault names by HTTP status. */
const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  500: 'computeFault',
  503: 'serviceUnavailable',
  504: 'gatewayTimeout',
};

/**
 * Every error the proxy makes itself: one line per kind (status, message template).
 * Templates take `{name}` placeholders filled from the params of `fault()`.
 */
export const ERRORS = {
  malformedBody: { status: 400, message: 'Malformed request body' },
  noFileName: { status: 400, message: 'No file_name was specified in request.' },
  badFileName: { status: 400, message: 'Invalid file_name {name}: it must be a plain file name inside the export directory.' },
  volumeNotAvailable: { status: 400, message: 'Invalid volume: Volume status must be available.' },
  volumeNotAvailableOrError: { status: 400, message: 'Invalid volume: Volume status must be available or error.' },
  volumeHasSnapshots: { status: 400, message: 'Invalid volume: Volume has {count} dependent snapshots' },
  snapshotNotAvailable: { status: 400, message: 'Invalid snapshot: Snapshot status must be available.' },
  /** Cinder's own refusals (InvalidVolume/InvalidSnapshot) for calls that conflict with a running job. */
  invalidVolume: { status: 400, message: 'Invalid volume: {reason}' },
  invalidSnapshot: { status: 400, message: 'Invalid snapshot: {reason}' },
  fileNotFound: { status: 404, message: 'File {name} could not be found.' },
  /** Cinder's NotFound for an id no request can name upstream (`.`, `..`). */
  resourceNotFound: { status: 404, message: '{what} {id} could not be found.' },
  /** The admin endpoint (operator CLI): an unknown path, job, or a verb a path does not take. */
  notFound: { status: 404, message: 'The resource could not be found.' },
  jobNotFound: { status: 404, message: 'Job {id} could not be found.' },
  jobFinished: { status: 409, message: 'Job {id} has already finished ({state}).' },
  badMethod: { status: 405, message: 'Method {method} is not allowed on {path}.' },
  bodyTooLarge: { status: 413, message: 'Request is too large.' },
  internal: { status: 500, message: 'The server has either erred or is incapable of performing the requested operation.' },
  upstreamUnavailable: { status: 503, message: 'The block storage service is unavailable: {reason}' },
  stateUnavailable: { status: 503, message: 'The state store is unavailable: {reason}' },
  shuttingDown: { status: 503, message: 'The service is shutting down.' },
  upstreamTimeout: { status: 504, message: 'The block storage service did not answer in time.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorKind = keyof typeof ERRORS;

/**
 * Why a job failed: one line per stable code (recorded as `Job.errorCode`); the message is the reason
 * written to backup_status after `Reason: `.
 */
export const JOB_FAILURES = {
  interrupted: 'interrupted: replica {replica} stopped renewing its lease',
  cancelled: 'cancelled by operator',
  stalled: 'stalled: no data moved for {seconds} s',
  noSpace: '{reason}',
  exportDirUnusable: '{reason}',
  backendFailed: '{reason}',
  archiveInvalid: '{reason}',
  volumeTooSmall: '{reason}',
  idMismatch: '{reason}',
  shuttingDown: 'interrupted: replica {replica} shut down before the job finished',
  unknown: '{reason}',
} as const satisfies Record<string, string>;

export type JobErrorCode = keyof typeof JOB_FAILURES;

/** A job's failure with its code; thrown inside jobs, recorded by the engine. */
export class JobFailure extends Error {
  constructor(readonly code: JobErrorCode, message: string) {
    super(message);
  }
}

export function jobFailure(code: JobErrorCode, params: Record<string, string | number> = {}): JobFailure {
  return new JobFailure(code, fill(JOB_FAILURES[code], params));
}

/** The code and reason of anything a job threw; `fallback` is the code of the stage that threw it. */
export function failureOf(err: unknown, fallback: JobErrorCode = 'unknown'): JobFailure {
  if (err instanceof JobFailure) return err;
  if (err instanceof Error) {
    // "ENOSPC: no space left on device, write" reads better without the syscall
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC') return jobFailure('noSpace', { reason: 'no space left on device in the export directory' });
    return jobFailure(fallback, { reason: withoutDirectories(err) });
  }
  return jobFailure(fallback, { reason: String(err) });
}

/**
 * The reason is shown to the tenant in backup_status: a system error keeps its code, call and file name,
 * but not the server's directories (the operator's log has the whole error).
 */
export function withoutDirectories(err: Error): string {
  const { path, dest } = err as NodeJS.ErrnoException & { dest?: string };
  let message = err.message;
  for (const p of [path, dest]) if (typeof p === 'string' && p !== '') message = message.replaceAll(p, basename(p));
  return message;
}

/** An error that renders as a Cinder fault body. Thrown by handlers, rendered by the server. */
export class CinderFault extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fill(template: string, params: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in params ? String(params[key]) : whole));
}

/** Build the fault for an error kind. */
export function fault(kind: ErrorKind, params: Record<string, string | number> = {}): CinderFault {
  const spec = ERRORS[kind];
  return new CinderFault(kind, spec.status, fill(spec.message, params));
}

export function faultName(status: number): string {
  return FAULT_NAMES[status] ?? (status >= 500 ? 'computeFault' : 'badRequest');
}

/** Cinder's fault body: `{"badRequest": {"code": 400, "message": "..."}}`. */
export function faultBody(status: number, message: string): Record<string, { code: number; message: string }> {
  return { [faultName(status)]: { code: status, message } };
}

/** A request id in Cinder's form. */
export function newRequestId(): string {
  return `req-${randomUUID()}`;
}
