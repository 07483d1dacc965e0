/**
 * Calls `onStall` once when `touch()` has not been called for `timeoutMs` (0 = never): a job whose
 * data stops moving (a hung helper command, a stuck device) is failed instead of staying `running`.
 */
export function stallWatchdog(timeoutMs: number, onStall: (idleMs: number) => void): { touch(): void; stop(): void } {
  if (timeoutMs <= 0) return { touch() {}, stop() {} };
  let last = Date.now();
  const timer = setInterval(() => {
    const idle = Date.now() - last;
    if (idle >= timeoutMs) { clearInterval(timer); onStall(idle); }
  }, Math.max(10, Math.min(timeoutMs / 4, 5000)));
  timer.unref();
  return { touch() { last = Date.now(); }, stop() { clearInterval(timer); } };
}
