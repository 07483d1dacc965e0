import { open } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';

const QCOW2_MAGIC = 0x514649fb; // "QFI\xfb"

export interface Qcow2Info {
  virtualSize: number;
  /** Absolute path of the backing file, if any (relative names are relative to the image's directory). */
  backingFile: string | null;
}

/** Read the qcow2 header if the file is one; null for anything else (raw). */
export async function readQcow2Header(path: string): Promise<Qcow2Info | null> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(32);
    const { bytesRead } = await fh.read(head, 0, 32, 0);
    if (bytesRead < 32 || head.readUInt32BE(0) !== QCOW2_MAGIC) return null;
    const backingOffset = Number(head.readBigUInt64BE(8));
    const backingSize = head.readUInt32BE(16);
    const virtualSize = Number(head.readBigUInt64BE(24));
    let backingFile: string | null = null;
    if (backingOffset > 0 && backingSize > 0 && backingSize <= 1023) {
      const name = Buffer.alloc(backingSize);
      await fh.read(name, 0, backingSize, backingOffset);
      const text = name.toString('utf8');
      backingFile = isAbsolute(text) ? text : join(dirname(path), text);
    }
    return { virtualSize, backingFile };
  } finally {
    await fh.close();
  }
}
