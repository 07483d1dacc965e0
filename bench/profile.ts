/**
 * Where the proxy's CPU time goes: summarise a V8 .cpuprofile (BENCH_CPU_PROF=1 or node --cpu-prof) by self
 * time per function and per file. Usage: npx tsx bench/profile.ts FILE.cpuprofile [top]
 */
import { summarizeProfile } from './lib/profile-summary.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: npx tsx bench/profile.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
process.stdout.write(`${summarizeProfile(file, Number(process.argv[3] ?? 25))}\n`);
