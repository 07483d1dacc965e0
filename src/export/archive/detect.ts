import type { FileHandle } from 'node:fs/promises';

export type ArchiveFormat = 'gzip' | 'zstd' | 'tar';

/** Recognise the compression by magic bytes, never by the file name. */
export async function detectFormat(fh: FileHandle): Promise<ArchiveFormat> {
  {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    if (bytesRead === 512 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
    throw new Error('file is not a tar archive (gzip, zstd or plain)');
  }
}
