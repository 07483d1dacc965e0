/**
 * Instructions per request, counted by valgrind's callgrind: repeatable (±2 %) where wall-clock figures are
 * not (a shared or throttled machine). Builds as the bench does, starts its fake Cinder, runs the proxy (or
 * the bare Node proxy, `floor`) under callgrind with instrumentation off, sends WARM requests, then counts N
 * more over C keep-alive connections. Not a target: a way to compare two versions of the code, one at a time.
 * The warm-up is long because V8 keeps tiering the proxy's code up for tens of thousands of requests: after
 * 3,000 its optimizing compiler still ran ~70k instructions per counted request, and the total hid the gap
 * to the floor. V8's memory reducer is off in the measured process: it starts a full GC when the allocation
 * rate looks low, which under callgrind's slowdown it always does, and a full GC in the counted window adds
 * ~55k GC and ~20k marking-barrier instructions per request that a process at full speed does not pay.
 * Compare versions by `work` (the total minus compiler and GC, which then repeats within ~2 %: a change
 * smaller than ~6k instructions per request needs several runs of each).
 *
 *   npx tsx bench/instructions.ts [proxy|floor] [volumes|volumes/detail]      (N=2000 WARM=60000 C=64 by default)
 */
import http from 'node:http';
import { mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRuntime } from './lib/build.js';
import { splitInstructions, type InstructionSplit } from './lib/callgrind-split.js';
import { cleanupAll, installExitHandlers, trackDir } from './lib/cleanup.js';
import { BenchContext, PROJECT, startListeningChild } from './lib/context.js';
import { run } from './lib/procs.js';
import { productionNodeFlags, startProxy } from './lib/proxy.js';
import { readSettings } from './lib/settings.js';

const who = process.argv[2] ?? 'proxy';
const path = process.argv[3] ?? 'volumes';
const counted = Number(process.env.N ?? 2000);
const warm = Number(process.env.WARM ?? 60_000);
const connections = Number(process.env.C ?? 64);
/** Node flags of the measured process: the production ones, and no time-driven full GCs (see above). */
const nodeFlags = [...productionNodeFlags(), '--no-memory-reducer'];
if (who !== 'proxy' && who !== 'floor') throw new Error(`proxy or floor, not "${who}"`);

/** `n` GETs over `connections` keep-alive connections; every answer must be a 200. */
async function load(url: string, n: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let left = n;
  let bad = 0;
  const one = () => new Promise<void>((done) => {
    http.get(url, { agent, headers: { 'X-Auth-Token': 'bench', Accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) bad++;
      res.resume();
      res.on('end', done);
    }).on('error', () => { bad++; done(); });
  });
  await Promise.all(Array.from({ length: connections }, async () => { while (left-- > 0) await one(); }));
  agent.destroy();
  if (bad > 0) throw new Error(`${bad} of ${n} answers were not 200`);
}

async function main(): Promise<void> {
  installExitHandlers();
  const tmp = mkdtempSync(join(tmpdir(), 'stx-instr-'));
  trackDir(tmp);
  const runtime = await prepareRuntime('compiled', tmp, ['src/main.ts', 'bench/lib/upstream-child.ts', 'bench/lib/floor-proxy-child.ts']);
  const ctx = new BenchContext(readSettings(), runtime, tmp);
  try {
    const upstream = await ctx.upstream();
    const outFile = join(tmp, 'callgrind.out');
    const command = ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`, 'node'];
    const startTimeoutMs = 180_000;
    writeFileSync(join(tmp, 'volume'), '');
    const measured = who === 'floor'
      ? await startListeningChild(runtime, 'bench/lib/floor-proxy-child.ts', new URL(upstream.url).port, 'floor proxy',
        { command: [...command, ...nodeFlags], startTimeoutMs })
      : await startProxy(runtime, { dir: ctx.dir('proxy'), upstreamUrl: upstream.url, logLevel: 'warn', volumePath: join(tmp, 'volume'),
        nodeFlags, command, startTimeoutMs });
    const url = `${measured.url}/v3/${PROJECT}/${path}`;
    await load(url, warm);
    await run('callgrind_control', ['-i', 'on', String(measured.pid)]);
    await load(url, counted);
    await run('callgrind_control', ['-i', 'off', String(measured.pid)]);
    await run('callgrind_control', ['-d', String(measured.pid)]);
    const split: InstructionSplit = { total: 0, compiler: 0, gc: 0, work: 0 };
    for (const f of readdirSync(tmp).filter((name) => name.startsWith('callgrind.out'))) {
      if (statSync(join(tmp, f)).size === 0) continue;
      const part = await splitInstructions(join(tmp, f));
      for (const key of Object.keys(split) as Array<keyof InstructionSplit>) split[key] += part[key];
    }
    if (split.total === 0) throw new Error('callgrind wrote no counts');
    const k = (n: number) => `${Math.round(n / counted / 1000)}k`;
    process.stdout.write(`${who} ${path}: ${k(split.work)} instructions per request of work, ${k(split.total)} in all `
      + `(compiler ${k(split.compiler)}, GC ${k(split.gc)}); ${counted} requests after ${warm}, ${connections} connections\n`);
    await measured.proc.stop();
  } finally {
    await ctx.stopAll();
    await cleanupAll();
  }
}

main().catch((err: unknown) => { process.stderr.write(`${(err as Error).stack ?? String(err)}\n`); process.exitCode = 1; });
