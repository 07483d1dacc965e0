import { realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { fault } from '../errors.js';

/**
 * Resolve an archive name a caller sent to a file inside the export directory, or throw the fault the
 * caller gets: 400 for a name that is not a plain file name or leads outside (symlink), 404 when absent.
 */
export async function resolveArchivePath(exportDir: string, name: string): Promise<string> {
  const plain = name.length > 0 && name.length <= 255 && !name.includes('/') && !name.includes('\\') &&
    !name.includes('\0') && name !== '.' && name !== '..' && !name.includes('..') && !isAbsolute(name);
  if (!plain) throw fault('badFileName', { name: JSON.stringify(name) });
  const candidate = join(exportDir, name);
  let real: string;
  try {
    real = await realpath(candidate);
  } catch {
    throw fault('fileNotFound', { name });
  }
  const root = await realpath(exportDir).catch(() => exportDir);
  if (!real.startsWith(root + sep)) throw fault('badFileName', { name: JSON.stringify(name) });
  const info = await stat(real).catch(() => undefined);
  if (!info?.isFile()) throw fault('fileNotFound', { name });
  return real;
}
