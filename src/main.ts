import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCinderClient } from './cinder/client.js';
import { createUpstreamVersions } from './cinder/versions.js';
import { loadConfigFile, type ConfigOverrides } from './config/load.js';
import { configPath, projectRoot } from './config/path.js';
import type { Config } from './config/schema.js';
import { createEngine } from './export/engine.js';
import { dirModeFor, ensureDirSync, PRIVATE_DIR_MODE } from './file-modes.js';
import { extensionDescriptions } from './extensions/index.js';
import { createLogger, wantsPrettyLogs, type Logger } from './log.js';
import { createForwarder } from './proxy/index.js';
import { createApp } from './server/app.js';
import { stopListening } from './server/lifecycle.js';
import { replicaIdOf } from './config/replica.js';
import { createMetrics, type Metrics } from './server/metrics.js';
import { createAdminHandler } from './admin/handler.js';
import { adminSocketPath, listenAdmin, type AdminEndpoint } from './admin/listen.js';
import { createRetention } from './export/retention.js';
import { observeStoreErrors } from './state/observed-store.js';
import { holdProcessLock } from './state/process-lock.js';
import { isSharedState, openStateStore, sqlitePathOf } from './state/open.js';

export interface RunningProxy {
  url: string;
  port: number;
  server: Server;
  /** The operator's endpoint (unix socket, optional TCP). */
  admin: AdminEndpoint;
  /** Stop accepting, let running jobs finish (engine.shutdownTimeoutMs), close everything. Safe to call twice. */
  close(): Promise<void>;
}

/** The composition root: build every collaborator from the config, recover old jobs, listen. */
export async function startProxy(config: Config, logger: Logger): Promise<RunningProxy> {
  const log = logger.child({ module: 'main' });
  ensureDirSync(config.dataDir, PRIVATE_DIR_MODE);
  // the embedded state belongs to one process (a second one would fail the first one's jobs on start);
  // taken before the store opens or recover() runs. A shared database (state.url) is shared by design.
  const lock = isSharedState(config) ? undefined : holdProcessLock(sqlitePathOf(config));
  // the metrics count the store's errors, and read the store for the job gauges
  let metrics: Metrics | undefined;
  const store = observeStoreErrors(await openStateStore(config, logger).catch((err: unknown) => { lock?.release(); throw err; }),
    (op) => metrics?.storeError(op));
  metrics = createMetrics(store);
  const versions = createUpstreamVersions({ config, logger });
  const cinder = createCinderClient({ config, logger, versions });
  const forwarder = createForwarder({ config, store, logger, versions, extensions: extensionDescriptions() });
  const engine = createEngine({ config, store, logger, replicaId: replicaIdOf(config), soleOwner: !isSharedState(config),
    observer: metrics.engine });
  const retention = createRetention({ config, store, logger });
  const adminStore = {
    listJobs: store.listJobs.bind(store),
    getJob: store.getJob.bind(store),
    // the store tells whichever replica runs the job; one of this process stops at once
    requestCancel: async (id: string) => { const asked = await store.requestCancel(id); engine.cancelLocal?.(id); return asked; },
  };
  let admin: AdminEndpoint | undefined;
  let stopSweep = () => {};
  const closeAll = async () => {
    stopSweep();
    await admin?.close();
    forwarder.close(); cinder.close(); versions.close(); await store.close(); lock?.release();
  };
  let server: Server;
  let draining = false;
  try {
    await engine.recover();
    admin = await listenAdmin(createAdminHandler({ store: adminStore, retention, sharedState: isSharedState(config), logger }),
      { socketPath: adminSocketPath(config), tcp: config.admin.listen, logger });
    stopSweep = retention.startSweep();
    try {
      ensureDirSync(config.exportDir, dirModeFor(config.engine.fileMode));
      ensureDirSync(join(config.exportDir, 'temp'), PRIVATE_DIR_MODE);
    } catch (err) {
      // the API keeps serving; exports fail (and say why) until the directory is usable
      log.warn({ exportDir: config.exportDir, err: (err as Error).message }, 'export directory is not usable');
    }
    const { listener } = createApp({ config, store, engine, cinder, forwarder, logger, metrics, draining: () => draining });
    server = createServer(listener);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(config.listen.port, config.listen.host, () => { server.off('error', fail); done(); });
    });
  } catch (err) {
    await engine.shutdown(0);
    await closeAll();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.listen.host === '0.0.0.0' || config.listen.host === '::' ? '127.0.0.1' : config.listen.host;
  log.info({ port, upstream: config.upstream.url, exportDir: config.exportDir }, 'listening');
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    admin,
    close() {
      closing ??= (async () => {
        draining = true;
        const stopped = stopListening(server);
        await engine.shutdown(config.engine.shutdownTimeoutMs);
        server.closeAllConnections();
        await stopped;
        await closeAll();
        log.info('stopped');
      })();
      return closing;
    },
  };
}

export { configPath };

/**
 * `--demo`: the whole thing for a newcomer (scripts/demo brings up a real stock Cinder, then runs this
 * proxy in front of it with a matching backend configuration and prints what to try).
 */
function runDemo(): void {
  const demo = spawn('bash', [join(projectRoot(), 'scripts', 'demo')], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => demo.kill(signal));
  demo.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

async function main(): Promise<void> {
  if (process.argv.includes('--demo')) { runDemo(); return; }
  let config: Config;
  try {
    config = loadConfigFile(configPath(process.argv.slice(2), process.env), process.env as ConfigOverrides);
  } catch (err) {
    process.stderr.write(`stx-cinder-proxy: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.log.level, { pretty: wantsPrettyLogs(process.stdout.isTTY, process.env) });
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(config, logger);
  } catch (err) {
    logger.fatal({ err }, `cannot start: ${(err as Error).message}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    // a signal often comes twice (to the process group, and forwarded by npm): the first starts the drain,
    // the others must not end the process before it ends (a once-handler would leave the default: exit)
    if (stopping) { logger.info({ signal }, 'already shutting down'); return; }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    proxy.close().then(() => process.exit(0), (err: unknown) => { logger.error({ err }, 'unclean shutdown'); process.exit(1); });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** Run the CLI only when this file is the program (not when a test imports startProxy). */
function isProgram(): boolean {
  try { return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url); } catch { return false; }
}

if (isProgram()) void main();
