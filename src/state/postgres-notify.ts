import pg from 'pg';
import type { Logger } from '../log.js';
import type { ResourceType, StoreEvent } from './types.js';

/** The channel every replica listens on. */
export const CHANNEL = 'stx_proxy';

/** A notification payload: a resource changed, or work was queued. */
export function payloadOf(event: StoreEvent): string {
  return event.kind === 'resource' ? JSON.stringify({ t: event.resourceType, i: event.resourceId }) : JSON.stringify({ q: 1 });
}

function eventOf(payload: string | undefined): StoreEvent | undefined {
  try {
    const p = JSON.parse(payload ?? '') as { t?: unknown; i?: unknown; q?: unknown };
    if ((p.t === 'volume' || p.t === 'snapshot') && typeof p.i === 'string') return { kind: 'resource', resourceType: p.t as ResourceType, resourceId: p.i };
    if (p.q === 1) return { kind: 'queued' };
  } catch { /* not one of ours */ }
  return undefined;
}

export interface ListenerOptions {
  connectionString: string;
  logger: Logger;
  emit(event: StoreEvent): void;
  /** How often the connection is checked (a paused or cut-off server sends no error). */
  checkMs?: number;
}

/**
 * One connection that LISTENs for every replica's changes and reconnects by itself. While it is down
 * notifications are missed, so each (re)connection and each loss tells the listeners `reset`; a
 * reconnection also says `queued` (work may have been recorded meanwhile).
 */
export function startListener(options: ListenerOptions): { ready: Promise<void>; close(): Promise<void> } {
  const checkMs = options.checkMs ?? 5000;
  let client: pg.Client | undefined;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  let check: NodeJS.Timeout | undefined;
  let delay = 250;
  let wasUp = false;
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => { markReady = resolve; });

  const lost = (err: unknown) => {
    const c = client;
    client = undefined;
    if (check) clearInterval(check);
    c?.removeAllListeners();
    c?.on('error', () => {});
    void c?.end().catch(() => {});
    if (closed) return;
    if (wasUp) options.logger.warn({ err: (err as Error)?.message }, 'state notifications lost, reconnecting');
    wasUp = false;
    options.emit({ kind: 'reset' });
    retry = setTimeout(connect, delay);
    retry.unref();
    delay = Math.min(delay * 2, 5000);
  };

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ connectionString: options.connectionString, keepAlive: true, connectionTimeoutMillis: 3000, query_timeout: 3000 });
    client = c;
    c.on('error', lost);
    c.on('end', () => { if (client === c) lost(new Error('connection ended')); });
    c.on('notification', (n) => { const e = eventOf(n.payload); if (e) options.emit(e); });
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      if (client === c) lost(err);
      return;
    }
    if (closed) { await c.end().catch(() => {}); return; }
    delay = 250;
    if (!wasUp) options.logger.info('listening for state notifications');
    wasUp = true;
    markReady();
    options.emit({ kind: 'reset' });
    options.emit({ kind: 'queued' });
    check = setInterval(() => { c.query('SELECT 1').catch((err: unknown) => { if (client === c) lost(err); }); }, checkMs);
    check.unref();
  }

  void connect();
  return {
    ready,
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (check) clearInterval(check);
      const c = client;
      client = undefined;
      c?.removeAllListeners();
      c?.on('error', () => {});
      await c?.end().catch(() => {});
    },
  };
}
