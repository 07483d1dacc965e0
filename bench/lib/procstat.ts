import { readFileSync, writeFileSync } from 'node:fs';

/** Linux' clock ticks per second for /proc/<pid>/stat times (100 on every common build). */
const CLK_TCK = 100;

function statusKiB(pid: number, key: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  if (!m) throw new Error(`no ${key} for pid ${pid}`);
  return Number(m[1]);
}

export const rssKiB = (pid: number): number => statusKiB(pid, 'VmRSS');
export const peakRssKiB = (pid: number): number => statusKiB(pid, 'VmHWM');

/** Reset the process' peak RSS so VmHWM measures one phase (Linux >= 4.0, needs the right to write clear_refs). */
export function resetPeakRss(pid: number): boolean {
  try { writeFileSync(`/proc/${pid}/clear_refs`, '5'); return true; } catch { return false; }
}

/** User + system CPU seconds the process has used so far. */
export function cpuSec(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the parenthesised command name; utime and stime are fields 14 and 15
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
}

/** Direct children of a process (nginx master -> worker). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch { return []; }
}

/**
 * Watches one process during a phase: peak RSS (kernel high-water mark after a reset, and sampled as a
 * cross-check) and CPU seconds used.
 */
export class PhaseMeter {
  private readonly cpu0: number;
  private readonly t0 = process.hrtime.bigint();
  private sampledMax = 0;
  private readonly hwmReset: boolean;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly pid: number, sampleMs = 100) {
    this.hwmReset = resetPeakRss(pid);
    this.cpu0 = cpuSec(pid);
    this.sample();
    this.timer = setInterval(() => this.sample(), sampleMs);
  }

  private sample(): void {
    try { this.sampledMax = Math.max(this.sampledMax, rssKiB(this.pid)); } catch { /* exited */ }
  }

  stop(): { peakRssMB: number; cpuSec: number; wallSec: number; cpuPct: number } {
    clearInterval(this.timer);
    this.sample();
    let peak = this.sampledMax;
    if (this.hwmReset) { try { peak = Math.max(peak, peakRssKiB(this.pid)); } catch { /* exited */ } }
    const wallSec = Number(process.hrtime.bigint() - this.t0) / 1e9;
    let cpu = 0;
    try { cpu = cpuSec(this.pid) - this.cpu0; } catch { /* exited */ }
    return { peakRssMB: (peak * 1024) / 1e6, cpuSec: cpu, wallSec, cpuPct: (100 * cpu) / wallSec };
  }
}
