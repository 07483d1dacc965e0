import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Pass bytes through at no more than `bytesPerSec` on average (0 = unlimited), and count them.
 * The pause is abortable, so a throttled job still stops at once.
 */
export async function* meter(input: AsyncIterable<Buffer>, opts: { bytesPerSec: number; signal: AbortSignal;
  onBytes?: (total: number, chunk: number) => void }): AsyncGenerator<Buffer> {
  const start = performance.now();
  let total = 0;
  for await (const chunk of input) {
    opts.signal.throwIfAborted();
    total += chunk.length;
    if (opts.bytesPerSec > 0) {
      const due = start + (total / opts.bytesPerSec) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal: opts.signal });
    }
    opts.onBytes?.(total, chunk.length);
    yield chunk;
  }
}
