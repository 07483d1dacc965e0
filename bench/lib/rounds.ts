/**
 * Measure every contender `rounds` times, in turn: on a shared machine the load moves between one contender's
 * run and the next; rounds spread that over all of them. Each contender's runs, in round order.
 */
export async function measureRounds<C extends { name: string }, R>(contenders: readonly C[], rounds: number,
  measure: (c: C) => Promise<R>): Promise<Map<string, R[]>> {
  const runs = new Map<string, R[]>();
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) runs.set(c.name, [...(runs.get(c.name) ?? []), await measure(c)]);
  }
  return runs;
}

/** Each contender's median run (by `key`). */
export function medianRuns<R>(runs: Map<string, R[]>, key: (r: R) => number): Map<string, R> {
  const out = new Map<string, R>();
  for (const [name, list] of runs) out.set(name, [...list].sort((a, b) => key(a) - key(b))[Math.floor(list.length / 2)]!);
  return out;
}

/** measureRounds, then each contender's median run. */
export async function inRounds<C extends { name: string }, R>(contenders: readonly C[], rounds: number,
  measure: (c: C) => Promise<R>, key: (r: R) => number): Promise<Map<string, R>> {
  return medianRuns(await measureRounds(contenders, rounds, measure), key);
}

/**
 * The ratio a/b of each round's two runs (measured minutes apart at most), lowest and highest: how far the
 * machine moved a ratio between rounds, which the ratio of the two medians does not show.
 */
export function roundRatioRange<R>(a: readonly R[], b: readonly R[], key: (r: R) => number): { min: number; max: number } | undefined {
  const ratios = a.map((r, i) => (b[i] ? key(r) / key(b[i]!) : NaN)).filter((x) => Number.isFinite(x));
  return ratios.length > 1 ? { min: Math.min(...ratios), max: Math.max(...ratios) } : undefined;
}

/** a - b of each round's two runs, for the rounds that have both. */
export function pairedDifferences<R>(a: readonly R[], b: readonly R[], key: (r: R) => number): number[] {
  return a.flatMap((r, i) => (b[i] ? [key(r) - key(b[i]!)] : []));
}

/** The middle value (the upper one of an even count, as medianRuns picks); NaN for none. */
export function median(values: readonly number[]): number {
  return [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? NaN;
}
