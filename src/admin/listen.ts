import { chmod, lstat, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';

/** Where the admin socket is: `admin.socket`, relative to `dataDir` unless absolute. */
export function adminSocketPath(config: Pick<Config, 'dataDir' | 'admin'>): string {
  return resolve(config.dataDir, config.admin.socket);
}

export interface AdminEndpoint {
  socketPath: string;
  /** `http://host:port` when `admin.listen` is set. */
  tcpUrl?: string;
  close(): Promise<void>;
}

export interface AdminListenOptions {
  socketPath: string;
  /** `host:port`, e.g. `127.0.0.1:9777`. */
  tcp?: string;
  logger: Logger;
}

function listenOn(server: Server, bind: (done: () => void) => void): Promise<void> {
  return new Promise<void>((done, fail) => {
    server.once('error', fail);
    bind(() => { server.off('error', fail); done(); });
  });
}

/** A socket left by a process that died is replaced; any other file in its place is an error, not ours to delete. */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  if (!st) return;
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  await rm(path, { force: true });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); });
}

/**
 * Serve the admin handler on a unix socket only its owner may use (mode 0600, created under a umask
 * that never lets it exist with a wider mode) and, when configured, on a TCP address.
 */
export async function listenAdmin(handler: (req: IncomingMessage, res: ServerResponse) => void,
  opts: AdminListenOptions): Promise<AdminEndpoint> {
  const log = opts.logger.child({ module: 'admin' });
  await removeStaleSocket(opts.socketPath);
  const unix = createServer(handler);
  const servers = [unix];
  // listen() binds a path synchronously, so the umask covers exactly the socket's creation
  await listenOn(unix, (done) => {
    const umask = process.umask(0o177);
    try { unix.listen(opts.socketPath, done); } finally { process.umask(umask); }
  });
  await chmod(opts.socketPath, 0o600);
  let tcpUrl: string | undefined;
  try {
    if (opts.tcp) {
      const i = opts.tcp.lastIndexOf(':');
      const host = opts.tcp.slice(0, i).replace(/^\[|\]$/g, '');
      const tcp = createServer(handler);
      await listenOn(tcp, (done) => tcp.listen(Number(opts.tcp!.slice(i + 1)), host, done));
      servers.push(tcp);
      const { port } = tcp.address() as AddressInfo;
      tcpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    }
  } catch (err) {
    await closeServer(unix);
    await rm(opts.socketPath, { force: true });
    throw err;
  }
  log.info({ socket: opts.socketPath, tcp: tcpUrl }, 'admin endpoint listening');
  let closing: Promise<void> | undefined;
  return {
    socketPath: opts.socketPath,
    ...(tcpUrl ? { tcpUrl } : {}),
    close() {
      closing ??= (async () => {
        await Promise.all(servers.map(closeServer));
        await rm(opts.socketPath, { force: true });
      })();
      return closing;
    },
  };
}
