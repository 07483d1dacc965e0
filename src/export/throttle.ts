import { setTimeout as sleep } from 'node:timers/promises';
import { isHole, pieceLength, type Piece } from './zero.js';

/** A throttled hole moves in slices of this, so progress and the stall watchdog keep moving. */
const HOLE_SLICE = 4 * 1024 * 1024;

function* slices<T extends Piece>(chunk: T, throttled: boolean): Generator<T> {
  if (!throttled || !isHole(chunk) || chunk.hole <= HOLE_SLICE) { yield chunk; return; }
  for (let left = chunk.hole; left > 0; left -= HOLE_SLICE) yield { hole: Math.min(HOLE_SLICE, left) } as T;
}

/**
 * Pass pieces through at no more than `bytesPerSec` volume bytes on average (0 = unlimited), and count
 * them. Holes count as the volume bytes they stand for (engine.bandwidthBytesPerSec is documented as
 * volume bytes per second, and progress is of the volume's logical bytes). The pause is abortable.
 */
export async function* meter<T extends Piece>(input: AsyncIterable<T>, opts: { bytesPerSec: number; signal: AbortSignal;
  onBytes?: (total: number, chunk: number) => void }): AsyncGenerator<T> {
  const start = performance.now();
  let total = 0;
  for await (const piece of input) for (const chunk of slices(piece, opts.bytesPerSec > 0)) {
    opts.signal.throwIfAborted();
    total += pieceLength(chunk);
    if (opts.bytesPerSec > 0) {
      const due = start + (total / opts.bytesPerSec) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait, undefined, { signal: opts.signal });
    }
    opts.onBytes?.(total, pieceLength(chunk));
    yield chunk;
  }
}
