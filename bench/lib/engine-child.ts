/**
 * Runs one engine job (export or import) in its own process, so its peak RSS is the engine's alone,
 * and prints `RESULT <json>`: job state, time from submit to finish, peak RSS, CPU.
 *
 * argv[2]: JSON EngineChildArgs
 */
import { join } from 'node:path';
import { destination } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import { createEngine } from '../../src/export/engine.js';
import { buildExportMeta } from '../../src/export/meta.js';
import { createLogger } from '../../src/log.js';
import { CachedStateStore } from '../../src/state/cached-store.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { NewJob } from '../../src/state/types.js';
import { volumeObject } from './fixtures.js';

export interface EngineChildArgs {
  mode: 'export' | 'import';
  dataDir: string;
  exportDir: string;
  /** File backend template, e.g. /tmp/x/volumes/volume-{id} */
  volumePath: string;
  volumeId: string;
  volumeBytes: number;
  gzipLevel: number;
  /** Import: archive name in exportDir. */
  fileName?: string;
  timeoutMs: number;
}

export interface EngineChildResult {
  state: string;
  error: string | null;
  fileName: string | null;
  jobSec: number;
  maxRssKiB: number;
  /** Highest values seen by sampling process.memoryUsage() (MB): where the RSS goes (JS heap vs Buffers). */
  memory: { heapTotalMB: number; heapUsedMB: number; externalMB: number; arrayBuffersMB: number };
  userSec: number;
  sysSec: number;
}

const HOST = 'bench@file#file';

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as EngineChildArgs;
  const config = parseConfig({
    dataDir: args.dataDir,
    exportDir: args.exportDir,
    backends: [{ name: 'bench', type: 'file', volumePath: args.volumePath }],
    engine: { gzipLevel: args.gzipLevel, minFreeBytes: 0 },
    log: { level: 'warn' },
  });
  const logger = createLogger('warn', destination(2));
  const store = new CachedStateStore(new SqliteStateStore(join(args.dataDir, 'state.db')), 1000);
  const engine = createEngine({ config, store, logger, replicaId: 'bench' });
  await engine.recover();
  const sizeGiB = Math.max(1, Math.ceil(args.volumeBytes / 2 ** 30));
  const input: NewJob = args.mode === 'export'
    ? {
      kind: 'volume-export', resourceType: 'volume', resourceId: args.volumeId, projectId: 'bench', bytesTotal: args.volumeBytes,
      backend: 'bench',
      params: { volumeId: args.volumeId, sizeGiB, host: HOST, meta: buildExportMeta(volumeObject(args.volumeId, sizeGiB, HOST) as never) },
    }
    : {
      kind: 'volume-import', resourceType: 'volume', resourceId: args.volumeId, projectId: 'bench', bytesTotal: args.volumeBytes,
      backend: 'bench',
      params: { volumeId: args.volumeId, sizeGiB, host: HOST, fileName: args.fileName, attached: false },
    };
  const job = await store.createJob(input);
  if (!job) throw new Error('store refused the job');
  const memory = { heapTotalMB: 0, heapUsedMB: 0, externalMB: 0, arrayBuffersMB: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    memory.heapTotalMB = Math.max(memory.heapTotalMB, m.heapTotal / 1e6);
    memory.heapUsedMB = Math.max(memory.heapUsedMB, m.heapUsed / 1e6);
    memory.externalMB = Math.max(memory.externalMB, m.external / 1e6);
    memory.arrayBuffersMB = Math.max(memory.arrayBuffersMB, m.arrayBuffers / 1e6);
  }, 50);
  const t0 = process.hrtime.bigint();
  engine.submit(job);
  const deadline = Date.now() + args.timeoutMs;
  let current = await store.getJob(job.id);
  while (current && (current.state === 'queued' || current.state === 'running')) {
    if (Date.now() > deadline) throw new Error('job did not finish in time');
    await new Promise((r) => setTimeout(r, 20));
    current = await store.getJob(job.id);
  }
  const jobSec = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  const usage = process.resourceUsage();
  const result: EngineChildResult = {
    state: current?.state ?? 'missing', error: current?.error ?? null, fileName: current?.fileName ?? null,
    jobSec, maxRssKiB: usage.maxRSS, memory, userSec: usage.userCPUTime / 1e6, sysSec: usage.systemCPUTime / 1e6,
  };
  await engine.shutdown(5000);
  await store.close();
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-child: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
