/**
 * Measure every contender `rounds` times, in turn, and keep each one's median run (by `key`): on a shared
 * machine the load moves between one contender's run and the next; rounds spread that over all of them.
 */
export async function inRounds<C extends { name: string }, R>(contenders: readonly C[], rounds: number,
  measure: (c: C) => Promise<R>, key: (r: R) => number): Promise<Map<string, R>> {
  const runs = new Map<string, R[]>();
  for (let round = 0; round < rounds; round++) {
    for (const c of contenders) runs.set(c.name, [...(runs.get(c.name) ?? []), await measure(c)]);
  }
  const out = new Map<string, R>();
  for (const [name, list] of runs) out.set(name, [...list].sort((a, b) => key(a) - key(b))[Math.floor(list.length / 2)]!);
  return out;
}
