import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { archiveOfTemp, TEMP_DIR } from './archive/atomic.js';

/**
 * Remove the temp files one replica (by its tag) left in `<exportDir>/temp`: all of them, or only those
 * of one archive. Another replica's files are never touched: they may be in the middle of a write.
 */
export async function removeTempFiles(exportDir: string, tag: string, archive?: string): Promise<number> {
  const dir = join(exportDir, TEMP_DIR);
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    const of = archiveOfTemp(name, tag);
    if (of === undefined || (archive !== undefined && of !== archive)) continue;
    await rm(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}
