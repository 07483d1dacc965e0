import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createCinderClient } from '../../src/cinder/client.js';
import type { CinderApi } from '../../src/cinder/types.js';
import { createUpstreamVersions } from '../../src/cinder/versions.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { extensionDescriptions } from '../../src/extensions/index.js';
import { createForwarder } from '../../src/proxy/index.js';
import type { ForwardOptions, Forwarder } from '../../src/proxy/contract.js';
import { createApp } from '../../src/server/app.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { StateStore } from '../../src/state/types.js';
import { FakeCinder } from './fake-cinder.js';
import { RecordingEngine } from './recording-engine.js';

export interface Harness {
  url: string;
  fake: FakeCinder;
  store: StateStore;
  engine: RecordingEngine;
  config: Config;
  exportDir: string;
  /** Options the server passed to forwarder.forward, in order. */
  forwarded: ForwardOptions[];
  /** Every log line the proxy wrote (parsed). */
  logs: Record<string, any>[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Raw config keys merged over the test defaults. */
  config?: Record<string, unknown>;
  /** Wrap the store (e.g. to simulate a race). */
  wrapStore?: (store: StateStore) => StateStore;
  /** Replace the real cinder client. */
  cinder?: CinderApi;
  /** Replace forwarder.ready(). */
  ready?: () => Promise<boolean>;
  /** The app's shutdown flag. */
  draining?: () => boolean;
}

/**
 * The real app (real cinder client, real forwarder, in-memory SQLite store) on 127.0.0.1 port 0 in front
 * of a FakeCinder, with a recording engine. Close it in afterEach.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await new FakeCinder().start();
  const exportDir = await mkdtemp(join(tmpdir(), 'stx-export-'));
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { url: fake.url, connectTimeoutMs: 2000, timeoutMs: 10000 },
    dataDir: join(exportDir, 'data'),
    exportDir,
    log: { level: 'debug' },
    ...options.config,
  });
  const logs: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const inner = new SqliteStateStore(':memory:');
  const store = options.wrapStore ? options.wrapStore(inner) : inner;
  const versions = createUpstreamVersions({ config, logger });
  const client = createCinderClient({ config, logger, versions });
  const real = createForwarder({ config, store, logger, versions, extensions: extensionDescriptions() });
  const forwarded: ForwardOptions[] = [];
  const forwarder: Forwarder = {
    forward: (req, res, opts) => { forwarded.push(opts); real.forward(req, res, opts); },
    upstreamApiVersion: (v) => real.upstreamApiVersion(v),
    ready: options.ready ?? (() => real.ready()),
    close: () => real.close(),
  };
  const engine = new RecordingEngine();
  const { listener } = createApp({ config, store, engine, cinder: options.cinder ?? client, forwarder, logger,
    ...(options.draining ? { draining: options.draining } : {}) });
  const server: Server = createServer(listener);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url, fake, store, engine, config, exportDir, forwarded, logs,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      real.close(); client.close(); versions.close(); await inner.close();
      await fake.close();
      await rm(exportDir, { recursive: true, force: true });
    },
  };
}
