import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { openNewFile, PRIVATE_FILE_MODE } from '../../file-modes.js';

export const TEMP_DIR = 'temp';
export const PART_SUFFIX = '.part';

export function tempPathFor(exportDir: string, name: string): string {
  return join(exportDir, TEMP_DIR, name + PART_SUFFIX);
}

/** fsync a directory so a rename in it survives power loss. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** Move a finished, fsynced temp file to its final name and make the rename durable. */
export async function publish(tempPath: string, finalPath: string): Promise<void> {
  await rename(tempPath, finalPath);
  await syncDir(dirname(finalPath));
}

/** Write a small file of `mode` durably and atomically (temp, fsync, rename, fsync dir). */
export async function writeFileAtomic(exportDir: string, name: string, content: string, mode = PRIVATE_FILE_MODE): Promise<void> {
  const temp = tempPathFor(exportDir, name);
  try {
    // a leftover temp of that name (ours: temp/ is the proxy's) would keep its old mode
    await rm(temp, { force: true });
    const fh = await openNewFile(temp, mode);
    try {
      await fh.writeFile(content);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await publish(temp, join(exportDir, basename(name)));
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** `sha256sum -c` format. */
export function sha256Line(hex: string, name: string): string {
  return `${hex}  ${name}\n`;
}
