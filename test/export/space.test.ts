import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, makeVolumeFile, meta, MiB, newId, runJob, type Harness } from './helpers.js';

let h: Harness | undefined;
let mounted: string | undefined;
afterEach(async () => {
  if (mounted) execFileSync('umount', [mounted]);
  mounted = undefined;
  await h?.cleanup();
  h = undefined;
});

describe('export directory space', () => {
  it('fails cleanly on ENOSPC mid-way: Export failed ... Reason, no archive, temp removed', async () => {
    h = await harness();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', h.exportDir]);
    mounted = h.exportDir;
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 32 * MiB, [[0, 32 * MiB]]);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 32 / 1024 });
    expect(exp.state).toBe('failed');
    expect(exp).toMatchObject({ error: 'no space left on device in the export directory', errorCode: 'noSpace' });
    expect((await h.store.overlay('volume', id))).toEqual({
      backupStatus: expect.stringMatching(/^Export failed at .* Reason: no space left on device in the export directory$/),
      status: null, progress: null,
    });
    expect(await readdir(h.exportDir)).toEqual(['temp']);
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);
  });

  it('refuses to start below engine.minFreeBytes, and when the directory is missing', async () => {
    h = await harness({}, { minFreeBytes: Number.MAX_SAFE_INTEGER });
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), MiB);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 1 / 1024 });
    expect(exp.error).toMatch(/^not enough free space in the export directory \(\d+ bytes free, at least \d+ required\)$/);
    await h.cleanup();
    h = await harness((dir) => ({ exportDir: join(dir, 'missing') }));
    const again = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 1 / 1024 });
    expect(again.error).toBe('the export directory does not exist');
  });
});
