import type { Piece } from '../zero.js';

/** Which bytes a job reads or writes. */
export interface VolumeRef {
  volumeId: string;
  /** Set for a snapshot export: the snapshot's data is read. */
  snapshotId?: string;
  /** The volume's size in bytes as Cinder reports it. */
  sizeBytes: number;
}

/** A volume's bytes as a stream of known length; a backend that knows where the holes are yields them as holes. */
export interface ReadSource {
  size: number;
  pieces: AsyncIterable<Piece>;
  /** Resolves when the producer (file or helper process) ended well; rejects with the reason otherwise. */
  done: Promise<void>;
  /** Release everything (kills helper processes); safe to call twice. */
  close(): void;
}

/** Where an imported image is written, sequentially from offset 0. */
export interface WriteSink {
  write(chunk: Buffer): Promise<void>;
  /** The next `length` bytes are zeros (a hole in the archive): a sparse file skips them, others write zeros. */
  zeros(length: number): Promise<void>;
  /** All bytes written: flush to stable storage and release. */
  finish(): Promise<void>;
  /** Give up (after a failure); safe to call after finish. */
  close(): Promise<void>;
}

export interface Backend {
  readonly name: string;
  openRead(ref: VolumeRef, signal: AbortSignal): Promise<ReadSource>;
  /** `imageSize` is the size of the image about to be written (never more than ref.sizeBytes). */
  openWrite(ref: VolumeRef, imageSize: number, signal: AbortSignal): Promise<WriteSink>;
}
