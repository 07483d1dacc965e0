import { chmodSync, mkdirSync } from 'node:fs';
import { chmod, mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** What the engine writes holds tenant data: owner only unless engine.fileMode widens it. */
export const PRIVATE_FILE_MODE = 0o600;
/** A directory the proxy creates for its own work (temp/, dataDir). */
export const PRIVATE_DIR_MODE = 0o700;

/**
 * The mode for a directory holding files of `fileMode`: each class that may read the files may enter
 * the directory (0640 files: 0750), so a backup group can reach what it was given.
 */
export function dirModeFor(fileMode: number): number {
  let mode = PRIVATE_DIR_MODE;
  if (fileMode & 0o040) mode |= 0o050;
  if (fileMode & 0o004) mode |= 0o005;
  return mode;
}

/**
 * Create a file that must not exist yet (`wx`) with exactly `mode`: the open applies the umask, which
 * may only narrow it, so the fchmod sets what was asked for (e.g. 0640 under umask 077).
 */
export async function openNewFile(path: string, mode: number): Promise<FileHandle> {
  const fh = await open(path, 'wx', mode);
  try {
    await fh.chmod(mode);
  } catch (err) {
    await fh.close().catch(() => {});
    throw err;
  }
  return fh;
}

/** The directories mkdir -p created: `path` and its parents up to the first one it reports. */
function created(first: string | undefined, path: string): string[] {
  if (first === undefined) return [];
  const top = resolve(first);
  const out: string[] = [];
  for (let d = resolve(path); ; d = dirname(d)) {
    out.push(d);
    if (d === top || d === dirname(d)) return out;
  }
}

/** mkdir -p; each directory it creates gets exactly `mode`, an existing one keeps its own. */
export async function ensureDir(path: string, mode: number): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode });
  for (const d of created(first, path)) await chmod(d, mode);
}

/** ensureDir for the composition root, before anything async runs. */
export function ensureDirSync(path: string, mode: number): void {
  const first = mkdirSync(path, { recursive: true, mode });
  for (const d of created(first, path)) chmodSync(d, mode);
}
