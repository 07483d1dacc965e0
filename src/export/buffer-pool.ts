/**
 * Read buffers that go back to their pool once every byte handed out of them has been consumed, so a long
 * export reuses a handful of 4 MiB buffers instead of allocating one per read: that churn of memory outside
 * V8's heap made V8 run a full mark-compact every few hundred megabytes (a fifth of a 2 GiB export's CPU)
 * and let the process's RSS creep up over a 1 TiB run.
 *
 * The consumer gives back what it is done with (`giveBack`, any part of a taken buffer, each byte once);
 * a buffer is reused only when all its bytes came back, so one still partly in use is never overwritten.
 * A buffer never given back (another compressor, an error) is simply left to the GC.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Bytes of each taken buffer not given back yet. */
  private readonly outstanding = new WeakMap<ArrayBufferLike, number>();

  constructor(readonly bufferSize: number, private readonly keep: number) {}

  /** `len` (at most bufferSize) bytes of a pooled buffer, contents undefined. */
  take(len: number): Buffer {
    if (len > this.bufferSize) throw new RangeError(`pool buffers hold ${this.bufferSize} bytes, not ${len}`);
    const whole = this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
    this.outstanding.set(whole.buffer, len);
    owners.set(whole.buffer, this);
    return whole.subarray(0, len);
  }

  release(part: Uint8Array): void {
    const left = this.outstanding.get(part.buffer);
    if (left === undefined) return;
    const now = left - part.byteLength;
    if (now > 0) { this.outstanding.set(part.buffer, now); return; }
    this.outstanding.delete(part.buffer);
    if (now === 0 && this.free.length < this.keep) this.free.push(Buffer.from(part.buffer, 0, this.bufferSize));
  }
}

const owners = new WeakMap<ArrayBufferLike, BufferPool>();

/** Give bytes taken from a pool back to it; bytes of any other buffer are ignored. */
export function giveBack(part: Uint8Array): void {
  owners.get(part.buffer)?.release(part);
}
