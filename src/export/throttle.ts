import { setTimeout as sleep } from 'node:timers/promises';
import { isHole, pieceLength, type Piece } from './zero.js';

/**
 * Pass pieces through at no more than `bytesPerSec` of data on average (0 = unlimited), and count them.
 * Holes move no data: they count towards the total (progress is of the volume's logical bytes) but
 * not towards the rate. The pause is abortable, so a throttled job still stops at once.
 */
export async function* meter<T extends Piece>(input: AsyncIterable<T>, opts: { bytesPerSec: number; signal: AbortSignal;
  onBytes?: (total: number) => void }): AsyncGenerator<T> {
  const start = performance.now();
  let total = 0;
  let data = 0;
  for await (const chunk of input) {
    opts.signal.throwIfAborted();
    total += pieceLength(chunk);
    if (!isHole(chunk)) data += chunk.length;
    if (opts.bytesPerSec > 0 && !isHole(chunk)) {
      const due = start + (data / opts.bytesPerSec) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal: opts.signal });
    }
    opts.onBytes?.(total);
    yield chunk;
  }
}
