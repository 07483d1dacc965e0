import { rmSync } from 'node:fs';

/**
 * What the run must undo, whatever happens: child process groups to kill, temp dirs to remove, and
 * async tasks (dropping a database of the run's own).
 * Children are spawned detached (own process group) so a shell pipeline dies with its shell.
 */
const groups = new Set<number>();
const dirs = new Set<string>();
const tasks = new Set<() => Promise<void>>();
let keepDirs = false;
let interruptedBy: string | undefined;

/** The signal that stopped the run, if any: its figures are incomplete and not written. */
export const interrupted = (): string | undefined => interruptedBy;

export function trackGroup(pid: number): void { groups.add(pid); }
export function untrackGroup(pid: number): void { groups.delete(pid); }
export function trackDir(dir: string): void { dirs.add(dir); }
export function trackTask(task: () => Promise<void>): void { tasks.add(task); }
export function untrackTask(task: () => Promise<void>): void { tasks.delete(task); }
export function keepTempDirs(keep: boolean): void { keepDirs = keep; }

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try { process.kill(-pid, signal); } catch { /* already gone */ }
}

/** Kill every tracked group (TERM, then KILL after a grace period), run the tasks, remove the temp dirs. */
export async function cleanupAll(graceMs = 2000): Promise<void> {
  const pids = [...groups];
  for (const pid of pids) killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 50));
  for (const pid of pids) if (alive(pid)) killGroup(pid, 'SIGKILL');
  groups.clear();
  for (const task of [...tasks]) await task().catch(() => undefined);
  tasks.clear();
  removeDirs();
}

function removeDirs(): void {
  if (!keepDirs) for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

function alive(pid: number): boolean {
  try { process.kill(-pid, 0); return true; } catch { return false; }
}

/** Last resort on exit paths that cannot await: kill what is left and remove the dirs synchronously. */
export function installExitHandlers(): void {
  process.on('exit', () => {
    for (const pid of groups) killGroup(pid, 'SIGKILL');
    removeDirs();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      interruptedBy = signal;
      process.stderr.write(`\nbench: ${signal}, cleaning up\n`);
      void cleanupAll(500).finally(() => process.exit(130));
    });
  }
}
