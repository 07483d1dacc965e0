import type { Server } from 'node:http';

/** Stop accepting connections; idle keep-alive sockets are closed now, busy ones when their answer ends. */
export function stopListening(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
