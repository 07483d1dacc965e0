import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { newRequestId } from '../../src/errors.js';
import { createForwarder, type ForwarderDeps } from '../../src/proxy/index.js';
import type { Forwarder } from '../../src/proxy/contract.js';
import { createUpstreamVersions } from '../../src/cinder/versions.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { Config } from '../../src/config/schema.js';
import { captureLogger, closeServer, onCleanup } from './helpers.js';

export const WRS_EXTENSIONS = [
  { alias: 'wrs-volume', name: 'WrsVolumeExport', namespace: 'http://docs.windriver.com/volume/ext/wrs-volume/api/v1.0',
    updated: '2014-08-11T00:00:00+00:00', description: 'Enable volume export/import', links: [] },
  { alias: 'wrs-snapshot', name: 'WrsSnapshotExportAction', namespace: 'http://docs.windriver.com/volume/ext/wrs-snapshot/api/v1.0',
    updated: '2014-08-16T00:00:00+00:00', description: 'Enable snapshot export to file', links: [] },
];

/** The clock of the harness store: backup_status texts read `... at 2026-11-27 03:00:00.123000`. */
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

export interface HarnessOptions {
  injectBackupStatus?: boolean;
  /** Bytes the "server" already read, sent instead of the stream (like an inspected action body). */
  bodyFor?: (req: http.IncomingMessage) => Buffer | undefined;
  deps?: Partial<ForwarderDeps>;
}

/** The forwarder behind a plain node:http server on port 0, with a real in-memory store; closed after the test. */
export async function startProxy(config: Config, options: HarnessOptions = {}): Promise<ProxyHarness> {
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
      requestId, log: { logger: logger.child({ requestId }) }, injectBackupStatus: options.injectBackupStatus ?? true,
      ...(body ? { body } : {}),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onCleanup(async () => {
    await closeServer(server);
    forwarder.close();
    versions.close();
    await store.close();
  });
  return { url, forwarder, store, lines, requestIds, server };
}
