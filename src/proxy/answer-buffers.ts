/** Answers smaller than this are held in ordinary buffers (Node's own pool serves the small ones). */
const SMALLEST_POOLED = 64 * 1024;

/**
 * Big buffers for the answers being rewritten (the received bytes and the rewritten copy), kept for the
 * next answer instead of being left to the GC. A 1,000-volume list takes two ~1 MiB buffers; allocated
 * afresh per answer, that memory outside V8's heap made V8 collect (a mark-compact every ~80 ms under
 * load, p99 20 ms). Sizes are powers of two; at most `keepBytes` are kept in all.
 *
 * A buffer is given back once nothing reads or writes it any more (the answer's response closed); a buffer
 * given back twice, or one the pool did not hand out, is ignored, so one buffer is never lent twice.
 */
export class AnswerBuffers {
  private readonly free = new Map<number, Buffer[]>();
  private readonly lent = new WeakSet<ArrayBufferLike>();
  private keptBytes = 0;

  constructor(private readonly keepBytes: number) {}

  /** A buffer of at least `size` bytes, contents undefined (from the pool when the size is pooled). */
  take(size: number): Buffer {
    if (size < SMALLEST_POOLED || size > this.keepBytes) return Buffer.allocUnsafe(size);
    const capacity = 2 ** Math.ceil(Math.log2(size));
    const reused = this.free.get(capacity)?.pop();
    if (reused) this.keptBytes -= capacity;
    const buffer = reused ?? Buffer.allocUnsafeSlow(capacity);
    this.lent.add(buffer.buffer);
    return buffer;
  }

  /** Give back a buffer (or a view of one) that take() lent; nothing of it may be in use any more. */
  giveBack(part: Uint8Array): void {
    const memory = part.buffer;
    if (!this.lent.delete(memory)) return;
    const capacity = memory.byteLength;
    if (this.keptBytes + capacity > this.keepBytes) return;
    const list = this.free.get(capacity) ?? [];
    list.push(Buffer.from(memory, 0, capacity));
    this.free.set(capacity, list);
    this.keptBytes += capacity;
  }
}
