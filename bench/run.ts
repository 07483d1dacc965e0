/**
 * `npm run bench`: what the proxy costs per request and how fast the engine moves data, side by side with
 * the alternatives, in one run on this machine (issue 5). Prints tables, writes the same figures as JSON to
 * bench/results/<timestamp>.json. Talks to 127.0.0.1 only; removes its temp files and children at the end,
 * also on failure or Ctrl-C. Settings: see bench/README.md (BENCH_QUICK=1 for a smoke run).
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareRuntime } from './lib/build.js';
import { cleanupAll, installExitHandlers, interrupted, keepTempDirs, trackDir } from './lib/cleanup.js';
import { BenchContext } from './lib/context.js';
import { run } from './lib/procs.js';
import { summarizeProfile } from './lib/profile-summary.js';
import { renderTable, targetsTable, type SectionResult, type Target } from './lib/report.js';
import { readSettings, type SectionName } from './lib/settings.js';
import { exportSection } from './sections/export.js';
import { importSection } from './sections/import.js';
import { memory } from './sections/memory.js';
import { passthrough } from './sections/passthrough.js';
import { rewrite } from './sections/rewrite.js';
import { sparseSection } from './sections/sparse.js';
import { cinder } from './sections/cinder.js';
import { soak } from './sections/soak.js';

const SECTIONS: Record<SectionName, (ctx: BenchContext) => Promise<SectionResult>> = {
  passthrough, rewrite, export: exportSection, import: importSection, memory, sparse: sparseSection, cinder, soak,
};

const out = (s: string) => process.stdout.write(`${s}\n`);

async function versionOf(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, { allowFail: true }).catch(() => undefined);
  return ((r?.stdout ?? '') + (r?.stderr ?? '')).split('\n').find((l) => l.trim())?.trim() ?? 'unknown';
}

async function main(): Promise<number> {
  installExitHandlers();
  const settings = readSettings();
  keepTempDirs(settings.keepTemp);
  const startedAt = new Date();
  const tmp = mkdtempSync(join(tmpdir(), 'stx-bench-'));
  trackDir(tmp);
  const cpuProfDir = process.env.BENCH_CPU_PROF === '1' ? mkdtempSync(join(tmpdir(), 'stx-bench-prof-')) : undefined;
  const machine = {
    cpus: cpus().length, cpuModel: cpus()[0]?.model, kernel: release(), node: process.version,
    wrk: await versionOf('wrk', ['-v']), nginx: await versionOf('nginx', ['-v']), loadavgAtStart: loadavg(),
  };
  out(`stx-cinder-proxy bench ${settings.quick ? '(QUICK smoke run) ' : ''}- ${startedAt.toISOString()}`);
  out(`machine: ${machine.cpus} cpus, node ${machine.node}, ${machine.wrk}, ${machine.nginx}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  out(`sections: ${settings.sections.join(', ')}; temp dir ${tmp}`);
  if (loadavg()[0]! > machine.cpus / 2) out(`WARNING: the machine is busy (load ${loadavg()[0]!.toFixed(1)} on ${machine.cpus} cpus): figures will be noisy`);

  const results: SectionResult[] = [];
  const errors: { section: string; message: string }[] = [];
  let ctx: BenchContext | undefined;
  try {
    const mustExist = ['src/main.ts', 'bench/lib/upstream-child.ts', 'bench/lib/floor-proxy-child.ts', 'bench/lib/relay-child.ts', 'bench/lib/engine-child.ts'];
    const runtime = await prepareRuntime(settings.runtime, tmp, mustExist);
    ctx = new BenchContext(settings, runtime, tmp, cpuProfDir);
    for (const name of settings.sections) {
      const t0 = Date.now();
      out(`\n== ${name} ...`);
      try {
        const r = await SECTIONS[name](ctx);
        results.push(r);
        for (const t of r.tables) out(renderTable(t));
        out(`   (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      } catch (err) {
        const message = (err as Error).message;
        errors.push({ section: name, message });
        out(`!! ${name} failed: ${message}`);
      }
    }
  } catch (err) {
    errors.push({ section: 'setup', message: (err as Error).message });
    out(`!! setup failed: ${(err as Error).message}`);
  } finally {
    await ctx?.stopAll();
  }

  const targets: Target[] = results.flatMap((r) => r.targets);
  out(renderTable(targetsTable(targets)));
  const missed = targets.filter((t) => t.met === false);
  const unmeasured = targets.filter((t) => t.met === null).length;
  out(`\n${targets.length - missed.length - unmeasured}/${targets.length} targets met${unmeasured ? `, ${unmeasured} not measured (n/a)` : ''}${errors.length ? `; ${errors.length} section(s) failed: ${errors.map((e) => e.section).join(', ')}` : ''}`);
  if (cpuProfDir) {
    // Node names them CPU.<date>.<time>.<pid>.<thread>.<seq>: thread 0 is the one serving requests; the others
    // (under BENCH_RUNTIME=tsx, its module loader) hold no request work and would print near-empty tables
    const files = readdirSync(cpuProfDir).filter((n) => n.endsWith('.cpuprofile'));
    const serving = files.filter((n) => /\.0\.\d+\.cpuprofile$/.test(n));
    for (const f of serving) out(`\n${summarizeProfile(join(cpuProfDir, f), 15)}`);
    const others = files.length - serving.length;
    if (settings.runtime === 'tsx') out('(tsx runs the sources through its loader: functions keep their names, their line numbers are not the source\'s)');
    out(`proxy CPU profile(s) kept in ${cpuProfDir}${others ? `, with ${others} of other threads` : ''} (open in Chrome DevTools, or npx tsx bench/profile.ts FILE)`);
  }

  if (interrupted()) return 130;
  const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}${settings.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({
    startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), settings, machine: { ...machine, loadavgAtEnd: loadavg() },
    targets, errors, sections: Object.fromEntries(results.map((r) => [r.name, { tables: r.tables, data: r.data }])),
  }, null, 2)}\n`);
  out(`results: ${file}`);
  return errors.length > 0 ? 1 : 0;
}

main()
  .then(async (code) => { await cleanupAll(); process.exit(code); })
  .catch(async (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    await cleanupAll();
    process.exit(1);
  });
