import type { Server } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { Writable } from 'node:stream';
import { onTestFinished } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';

/**
 * Every server a test starts goes through here: it listens on 127.0.0.1 port 0 and its close is
 * registered at once with onTestFinished, so a failing test never leaks it (undici's tests do the same).
 */
export async function listen(server: Server | NetServer): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => closeServer(server));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port };
}

/** Close now (dropping kept-alive connections); safe to call again. */
export function closeServer(server: Server | NetServer): Promise<void> {
  if (!server.listening) return Promise.resolve();
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function testConfig(upstreamUrl: string, upstream: Record<string, unknown> = {}): Config {
  return configSchema.parse({ upstream: { url: upstreamUrl, connectTimeoutMs: 1000, timeoutMs: 5000, ...upstream } });
}

/** A logger that keeps its lines (parsed) for assertions. */
export function captureLogger(level = 'debug'): { logger: Logger; lines: Array<Record<string, any>>; texts: string[] } {
  const lines: Array<Record<string, any>> = [];
  // each line as written, too: a parsed line cannot show a key written twice
  const texts: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) { texts.push(line); lines.push(JSON.parse(line)); }
      cb();
    },
  });
  return { logger: createLogger(level, sink), lines, texts };
}
