import { mkdtemp, rm } from 'node:fs/promises';
import http, { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { createCinderClient } from '../../src/cinder/client.js';
import type { CinderApi, ExtensionDescription } from '../../src/cinder/types.js';
import { createUpstreamVersions } from '../../src/cinder/versions.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { newRequestId } from '../../src/errors.js';
import { extensionDescriptions } from '../../src/extensions/index.js';
import { createForwarder, type ForwarderDeps } from '../../src/proxy/index.js';
import type { ForwardOptions, Forwarder } from '../../src/proxy/contract.js';
import { createApp } from '../../src/server/app.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { StateStore } from '../../src/state/types.js';
import { parseTarget } from './target.js';
import { FakeCinder } from './fake-cinder.js';
import { RecordingEngine } from './recording-engine.js';
import { captureLogger, closeServer, listen } from './servers.js';

/** The extension list as the original wrote it (the oracle the rewrites are checked against). */
export const WRS_EXTENSIONS: ExtensionDescription[] = [
  { alias: 'wrs-volume', name: 'WrsVolumeExport', namespace: 'http://docs.windriver.com/volume/ext/wrs-volume/api/v1.0',
    updated: '2014-08-11T00:00:00+00:00', description: 'Enable volume export/import', links: [] },
  { alias: 'wrs-snapshot', name: 'WrsSnapshotExportAction', namespace: 'http://docs.windriver.com/volume/ext/wrs-snapshot/api/v1.0',
    updated: '2014-08-16T00:00:00+00:00', description: 'Enable snapshot export to file', links: [] },
];

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
  /** The same log lines as written. */
  logTexts: string[];
  /** Close early (e.g. to start another harness); the test's end closes it anyway. */
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
 * of a FakeCinder, with a recording engine. Everything it started is closed when the test finishes.
 */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const fake = await new FakeCinder().start();
  const exportDir = await mkdtemp(join(tmpdir(), 'stx-export-'));
  onTestFinished(() => rm(exportDir, { recursive: true, force: true }));
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { url: fake.url, connectTimeoutMs: 2000, timeoutMs: 10000 },
    dataDir: join(exportDir, 'data'),
    exportDir,
    log: { level: 'debug' },
    ...options.config,
  });
  const { logger, lines: logs, texts: logTexts } = captureLogger();
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
  const server = createServer(listener);
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await closeServer(server);
    real.close(); client.close(); versions.close(); await inner.close();
  };
  onTestFinished(close);
  const { url } = await listen(server);
  return { url, fake, store, engine, config, exportDir, forwarded, logs, logTexts, close };
}

/** The clock of the forwarder harness's store: backup_status texts read `... at 2026-11-27 03:00:00.123000`. */
export const STORE_TIME = Date.parse('2026-11-27T03:00:00.123Z');

export interface ProxyHarness {
  url: string;
  forwarder: Forwarder;
  store: SqliteStateStore;
  lines: Array<Record<string, unknown>>;
  /** Request ids handed to forward(), in order. */
  requestIds: string[];
  server: http.Server;
}

export interface ProxyOptions {
  injectBackupStatus?: boolean;
  /** Bytes the "server" already read, sent instead of the stream (like an inspected action body). */
  bodyFor?: (req: http.IncomingMessage) => Buffer | undefined;
  deps?: Partial<ForwarderDeps>;
}

/** The forwarder alone behind a plain node:http server, with a real in-memory store; closed when the test finishes. */
export async function startProxy(config: Config, options: ProxyOptions = {}): Promise<ProxyHarness> {
  const { logger, lines } = captureLogger();
  const store = new SqliteStateStore(':memory:', { now: () => STORE_TIME });
  const versions = createUpstreamVersions({ config, logger });
  const forwarder = createForwarder({ config, store, logger, versions, extensions: WRS_EXTENSIONS, ...options.deps });
  const requestIds: string[] = [];
  const server = http.createServer((req, res) => {
    const requestId = newRequestId();
    requestIds.push(requestId);
    const body = options.bodyFor?.(req);
    forwarder.forward(req, res, {
      requestId, log: { logger: logger.child({ module: 'proxy', requestId }) }, target: parseTarget(req.method, req.url, req.headers['content-type']),
      injectBackupStatus: options.injectBackupStatus ?? true,
      ...(body ? { body } : {}),
    });
  });
  onTestFinished(async () => { forwarder.close(); versions.close(); await store.close(); });
  const { url } = await listen(server);
  return { url, forwarder, store, lines, requestIds, server };
}
