import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { archiveOfTemp, PART_SUFFIX, TEMP_DIR } from './archive/atomic.js';

/**
 * Remove the temp files one replica (by its tag; `null`: any replica) left in `<exportDir>/temp`: all of
 * them, or only those of one archive. Another replica's files are never touched: they may be in the
 * middle of a write.
 */
export async function removeTempFiles(exportDir: string, tag: string | null, archive?: string): Promise<number> {
  const dir = join(exportDir, TEMP_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const of = tag === null ? (name.endsWith(PART_SUFFIX) ? name : undefined) : archiveOfTemp(name, tag);
    if (of === undefined || (archive !== undefined && of !== archive)) continue;
    await rm(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
