import { productionNodeFlags } from './proxy.js';

/** Everything a run can be told through the environment; BENCH_QUICK=1 is a smoke run. */
export interface Settings {
  quick: boolean;
  /** Sections to run, in this order. */
  sections: SectionName[];
  /** wrk duration per load, seconds. */
  durationSec: number;
  /** Closed-loop (saturating) concurrency levels. */
  connections: number[];
  /** Closed-loop rounds through all contenders; the median of each is kept (a shared machine's load moves). */
  rounds: number;
  /** Connections and total request rate of the paced run that measures added latency below saturation. */
  pacedConnections: number;
  /** undefined: half the slowest contender's closed-loop ceiling, at most 2000 req/s. */
  pacedRps: number | undefined;
  /** Export/import volume size in GiB (fractional allowed for quick runs; kept a multiple of 4 MiB). */
  volumeGiB: number;
  /** Sparse volume exported through the proxy for the memory figure. */
  sparseGiB: number;
  /** Sparse section: volume size, number of random runs and their size (the 40 GiB holding 5 x 64 MiB). */
  sparseVolumeGiB: number;
  sparseRuns: number;
  sparseRunMiB: number;
  /** Sparse section: also 1 TiB holding 20 GiB (the Ceph anchor); needs ~65 GB free and a quiet machine. */
  sparseHuge: boolean;
  /** Volumes in the big volumes/detail answer of the rewrite section. */
  rewriteVolumes: number;
  /** Run the engine at gzip level 6 too (the original's level). */
  engineLevel6: boolean;
  /** `compiled`: tsc to a temp dir and run plain node (what production runs); `tsx`: run the sources. */
  runtime: 'compiled' | 'tsx';
  /** Log level of the proxy under load (nginx runs with access_log off). */
  proxyLogLevel: string;
  /** GETs per path and way in front of the real Cinder (section cinder). */
  cinderRequests: number;
  /** Length of the soak in seconds, its GET rate, and the interval between its exports. */
  soakSec: number;
  soakRps: number;
  soakExportEverySec: number;
  /** Node flags for the proxy processes: the Dockerfile's NODE_OPTIONS unless BENCH_PROXY_NODE_FLAGS (space-separated) says otherwise. */
  proxyNodeFlags: string[];
  /** Keep the temp dir (for debugging). */
  keepTemp: boolean;
}

export const ALL_SECTIONS = ['passthrough', 'rewrite', 'export', 'import', 'memory', 'sparse', 'cinder', 'soak'] as const;
export type SectionName = (typeof ALL_SECTIONS)[number];

function num(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${key}: not a positive number: "${raw}"`);
  return value;
}

function list(env: NodeJS.ProcessEnv, key: string, fallback: number[]): number[] {
  const raw = env[key];
  if (!raw) return fallback;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`${key}: expected e.g. 16,64,128: "${raw}"`);
  return values;
}

function sections(env: NodeJS.ProcessEnv): SectionName[] {
  const raw = env.BENCH_SECTIONS;
  if (!raw) return [...ALL_SECTIONS];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(ALL_SECTIONS as readonly string[]).includes(n)) throw new Error(`BENCH_SECTIONS: unknown section "${n}" (${ALL_SECTIONS.join(', ')})`);
  }
  return names as SectionName[];
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const quick = env.BENCH_QUICK === '1';
  const runtime = env.BENCH_RUNTIME ?? 'compiled';
  if (runtime !== 'compiled' && runtime !== 'tsx') throw new Error(`BENCH_RUNTIME: compiled or tsx, not "${runtime}"`);
  const mib4 = 4 / 1024;
  const volumeGiB = Math.max(mib4, Math.round(num(env, 'BENCH_VOLUME_GIB', quick ? 0.125 : 2) / mib4) * mib4);
  return {
    quick,
    sections: sections(env),
    durationSec: num(env, 'BENCH_DURATION', quick ? 2 : 5),
    connections: list(env, 'BENCH_CONNECTIONS', [16, 64, 128]),
    rounds: num(env, 'BENCH_ROUNDS', 1),
    pacedConnections: num(env, 'BENCH_PACED_CONNECTIONS', 64),
    pacedRps: env.BENCH_PACED_RPS ? num(env, 'BENCH_PACED_RPS', 2000) : undefined,
    volumeGiB,
    sparseGiB: num(env, 'BENCH_SPARSE_GIB', quick ? 1 : 4),
    sparseVolumeGiB: num(env, 'BENCH_SPARSE_VOLUME_GIB', quick ? 4 : 40),
    sparseRuns: num(env, 'BENCH_SPARSE_RUNS', 5),
    sparseRunMiB: num(env, 'BENCH_SPARSE_RUN_MIB', quick ? 8 : 64),
    sparseHuge: env.BENCH_SPARSE_HUGE !== undefined ? env.BENCH_SPARSE_HUGE === '1' : !quick,
    rewriteVolumes: num(env, 'BENCH_REWRITE_VOLUMES', 1000),
    engineLevel6: env.BENCH_ENGINE_LEVEL6 !== undefined ? env.BENCH_ENGINE_LEVEL6 === '1' : !quick,
    runtime,
    proxyLogLevel: env.BENCH_PROXY_LOG_LEVEL ?? 'warn',
    cinderRequests: num(env, 'BENCH_CINDER_REQUESTS', quick ? 40 : 300),
    soakSec: num(env, 'BENCH_SOAK_S', quick ? 90 : 600),
    soakRps: num(env, 'BENCH_SOAK_RPS', 200),
    soakExportEverySec: num(env, 'BENCH_SOAK_EXPORT_EVERY_S', 20),
    proxyNodeFlags: env.BENCH_PROXY_NODE_FLAGS !== undefined ? env.BENCH_PROXY_NODE_FLAGS.split(/\s+/).filter(Boolean) : productionNodeFlags(),
    keepTemp: env.BENCH_KEEP_TEMP === '1',
  };
}
