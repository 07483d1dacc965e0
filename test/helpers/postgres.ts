import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import pg from 'pg';

/** The machine's PostgreSQL (trust auth); STX_TEST_PG_URL overrides it. Tests never touch databases they did not create. */
const ADMIN_URL = process.env.STX_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string, port?: number): string {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${database}`;
  if (port !== undefined) { u.hostname = '127.0.0.1'; u.port = String(port); }
  return u.toString();
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try { return await work(c); } finally { await c.end(); }
}

/** Create a database with a random name; drop() removes it (and its connections). */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `stx_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name, url: urlFor(name),
    drop: () => admin(async (c) => { await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); }),
  };
}

/**
 * A TCP relay in front of PostgreSQL that a test can cut: `down()` drops every connection and refuses new
 * ones (the database "stopped"), `up()` lets them through again. Listens on 127.0.0.1 port 0.
 */
export async function startGate(): Promise<{ port: number; down(): void; up(): void; close(): Promise<void> }> {
  const target = new URL(ADMIN_URL);
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) { client.destroy(); return; }
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client);
    sockets.add(upstream);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    down() { open = false; for (const s of sockets) s.destroy(); sockets.clear(); },
    up() { open = true; },
    close: () => new Promise<void>((resolve) => { open = false; for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}
