import { fault } from '../errors.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/**
 * Whether an error means the database is out of reach (rather than a statement it refused): a network
 * error, a connection-class or shutdown SQLSTATE (08xxx, 57P0x), or node-postgres' own timeouts.
 */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Cannot use a pool after calling end/i
    .test(err.message);
}

/** The fault a caller gets while the database is out of reach; other errors pass as they are. */
export function asUnavailable(err: unknown): unknown {
  if (!isConnectionError(err)) return err;
  return fault('stateUnavailable', { reason: `PostgreSQL: ${(err as Error).message || (err as { code?: string }).code}` });
}
