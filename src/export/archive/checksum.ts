import { createHash } from 'node:crypto';
import { readFile, type FileHandle } from 'node:fs/promises';
import { readFrom } from './reader.js';

/** The hash recorded in `<name>.sha256` (sha256sum format), undefined when there is none. */
export async function readSha256File(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = /^([0-9a-fA-F]{64})\s/.exec(text);
  if (!m) throw new Error('checksum file is not in sha256sum format');
  return m[1]!.toLowerCase();
}

export async function sha256OfFile(file: FileHandle, signal: AbortSignal, onChunk?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of readFrom(file, signal)) { hash.update(chunk as Buffer); onChunk?.((chunk as Buffer).length); }
  return hash.digest('hex');
}
