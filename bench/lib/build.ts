import { mkdirSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths.js';
import { run } from './procs.js';

/** How to start a bench or project TypeScript file in a child process. */
export interface Runtime {
  kind: 'compiled' | 'tsx';
  /** node arguments that run `rel` (a .ts path relative to the project root). */
  nodeArgs(rel: string): string[];
  /** Environment children need (where the project root is, for fixtures). */
  env: NodeJS.ProcessEnv;
}

/**
 * `compiled`: tsc emits src/ and bench/ into a temp dir and children run plain node on the JS, as
 * production runs dist/main.js (no loader thread in the measured RSS). Type errors elsewhere in the tree
 * do not stop the emit; only the files we run must come out.
 */
export async function prepareRuntime(kind: 'compiled' | 'tsx', tempDir: string, mustExist: string[]): Promise<Runtime> {
  const env = { ...process.env, BENCH_PROJECT_ROOT: projectRoot };
  if (kind === 'tsx') {
    return { kind, env, nodeArgs: (rel) => ['--import', 'tsx', join(projectRoot, rel)] };
  }
  const out = join(tempDir, 'build');
  mkdirSync(out, { recursive: true });
  // compiled files resolve packages, and the ESM "type", from here
  symlinkSync(join(projectRoot, 'node_modules'), join(out, 'node_modules'));
  symlinkSync(join(projectRoot, 'package.json'), join(out, 'package.json'));
  const tsconfig = join(tempDir, 'tsconfig.bench.json');
  writeFileSync(tsconfig, JSON.stringify({
    extends: join(projectRoot, 'tsconfig.json'),
    compilerOptions: { outDir: out, rootDir: projectRoot, noEmit: false, noEmitOnError: false, incremental: false, sourceMap: false, declaration: false },
    include: [join(projectRoot, 'src'), join(projectRoot, 'bench')],
  }));
  const res = await run(join(projectRoot, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { allowFail: true, cwd: projectRoot });
  const js = (rel: string) => join(out, rel.replace(/\.ts$/, '.js'));
  const missing = mustExist.filter((rel) => !existsSync(js(rel)));
  if (missing.length > 0) throw new Error(`tsc did not emit ${missing.join(', ')}: ${res.stdout.slice(-800)}`);
  return { kind, env, nodeArgs: (rel) => [js(rel)] };
}
