import type { AnswerBuffers } from './answer-buffers.js';

/** Room for an answer that declares no length; doubled as it grows. */
const FIRST_ROOM = 64 * 1024;
const EMPTY = Buffer.alloc(0);

/**
 * An answer's body as it arrives, in one buffer (sized from Content-Length when declared), so that the
 * offsets a reader found in the first chunks stay valid for the whole text and no concat is needed at the end.
 */
export class ReceivedBytes {
  private buffer: Buffer;
  length = 0;

  /** `declared`: the Content-Length (at most what the caller is willing to hold), NaN when there is none. */
  constructor(private readonly declared: number, private readonly buffers: AnswerBuffers) {
    this.buffer = EMPTY;
  }

  add(chunk: Buffer): void {
    // an answer that comes in one chunk (most small ones) is kept as it is, without a copy
    if (this.length === 0 && chunk.length === this.declared) {
      this.buffer = chunk;
      this.length = chunk.length;
      return;
    }
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      const room = Math.max(needed, this.length === 0 && this.declared > 0 ? this.declared : FIRST_ROOM, this.buffer.length * 2);
      const bigger = this.buffers.take(room);
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffers.giveBack(this.buffer);
      this.buffer = bigger;
    }
    chunk.copy(this.buffer, this.length);
    this.length = needed;
  }

  /** The bytes so far (a view: later chunks do not change it, a later view may live in a bigger buffer). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** The buffer goes back to the pool: no view of it may be read or written after this. */
  release(): void {
    this.buffers.giveBack(this.buffer);
    this.buffer = EMPTY;
    this.length = 0;
  }
}
