/** Room for an answer that declares no length; doubled as it grows. */
const FIRST_ROOM = 64 * 1024;

/**
 * An answer's body as it arrives, in one buffer (sized from Content-Length when declared), so that the
 * offsets a reader found in the first chunks stay valid for the whole text and no concat is needed at the end.
 */
export class ReceivedBytes {
  private buffer: Buffer;
  length = 0;

  /** `declared`: the Content-Length, NaN when there is none. */
  constructor(private readonly declared: number) {
    this.buffer = Buffer.allocUnsafe(declared > 0 ? declared : FIRST_ROOM);
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
      const bigger = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(bigger, 0, 0, this.length);
      this.buffer = bigger;
    }
    chunk.copy(this.buffer, this.length);
    this.length = needed;
  }

  /** The bytes so far (a view: later chunks do not change it, a later view may live in a bigger buffer). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
