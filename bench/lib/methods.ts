import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchContext } from './context.js';
import type { EngineChildArgs, EngineChildResult } from './engine-child.js';
import { timed } from './procs.js';

/** One timed way of moving the volume's bytes. */
export interface Measured {
  method: string;
  gzipLevel: number | null;
  wallSec: number;
  /** Engine only: submit to finish, without node's start-up. */
  jobSec?: number;
  peakRssMB: number;
  cpuSec: number;
  outBytes: number | null;
  ok: boolean;
  detail?: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
export { q as shellQuote };

/** A shell pipeline under /usr/bin/time (peak RSS = the largest process of the pipeline). */
export async function shellMethod(ctx: BenchContext, method: string, gzipLevel: number | null, script: string, outFile: string | null): Promise<Measured> {
  const t = await timed('sh', ['-c', `set -e; ${script}`], join(ctx.dir('time'), 'time.txt'));
  return {
    method, gzipLevel, wallSec: t.wallSec, peakRssMB: (t.maxRssKiB * 1024) / 1e6, cpuSec: t.userSec + t.sysSec,
    outBytes: outFile ? statSync(outFile).size : null, ok: true,
  };
}

export type EngineMeasured = Measured & { result: EngineChildResult };

/** One engine job in a child process (export or import). */
export async function engineMethod(ctx: BenchContext, method: string, args: EngineChildArgs): Promise<EngineMeasured> {
  const t = await timed('node', [...ctx.runtime.nodeArgs('bench/lib/engine-child.ts'), JSON.stringify(args)],
    join(ctx.dir('time'), 'time.txt'), { env: ctx.runtime.env });
  const line = t.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`engine child printed no result: ${t.stderr.slice(-800)}`);
  const result = JSON.parse(line.slice('RESULT '.length)) as EngineChildResult;
  const out = result.fileName ? join(args.exportDir, result.fileName) : null;
  return {
    method, gzipLevel: args.gzipLevel, wallSec: t.wallSec, jobSec: result.jobSec,
    peakRssMB: (Math.max(t.maxRssKiB, result.maxRssKiB) * 1024) / 1e6, cpuSec: t.userSec + t.sysSec,
    outBytes: args.mode === 'export' && out ? statSync(out).size : null,
    ok: result.state === 'succeeded', ...(result.error ? { detail: result.error } : {}), result,
  };
}
