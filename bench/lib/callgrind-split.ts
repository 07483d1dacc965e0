import { run } from './procs.js';

/** Instruction counts of one callgrind profile, split by who ran them. */
export interface InstructionSplit {
  total: number;
  /** V8's optimizing compiler (TurboFan), which runs on worker threads while code is still being tiered up. */
  compiler: number;
  /** The garbage collector: scavenges, concurrent marking, sweeping. */
  gc: number;
  /** Everything else: the request's own work (JIT code, builtins, Node's C++, libc). */
  work: number;
}

const COMPILER = /compiler::|turboshaft|Turbofan|Compil|Pipeline|Zone/;
const GC = /Mark|Sweep|Scaveng|Evacuat|heap::|Heap::|MemoryChunk|RememberedSet|SlotSet|ActiveSystemPages|Compactor|SizeFromMap|popcount|Concurrent/;

/**
 * The split, read off `callgrind_annotate` (self cost per function). The compiler and the GC are time- and
 * history-driven (a slow process under callgrind compiles and collects at other moments than a fast one), so
 * `work` is the figure that repeats between runs; compare versions by it.
 */
export async function splitInstructions(profile: string): Promise<InstructionSplit> {
  const { stdout } = await run('callgrind_annotate', ['--inclusive=no', '--threshold=100', profile], {});
  const split: InstructionSplit = { total: 0, compiler: 0, gc: 0, work: 0 };
  for (const m of stdout.matchAll(/^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/gm)) {
    const n = Number(m[1]!.replaceAll(',', ''));
    const fn = m[2]!;
    if (fn.includes('PROGRAM TOTALS')) continue;
    split.total += n;
    if (COMPILER.test(fn)) split.compiler += n;
    else if (GC.test(fn)) split.gc += n;
    else split.work += n;
  }
  return split;
}
