import { setTimeout as delay } from 'node:timers/promises';

/**
 * Wait for a state another process owns (a child proxy, Cinder, a file it writes), for which no event
 * reaches the test: `probe` is asked again every `intervalMs` until it gives a value. A probe that throws
 * is asked again (its last error is in the timeout's message), unless the error is marked `fatal`.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000,
  intervalMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      if ((err as { fatal?: boolean }).fatal) throw err;
      last = err;
    }
    if (Date.now() >= end) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await delay(intervalMs);
  }
}

/** An error that ends a waitFor at once (the state it waits for can no longer come). */
export function fatal(msg: string): Error {
  return Object.assign(new Error(msg), { fatal: true });
}
