import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, makeVolumeFile, meta, MiB, newId, runJob, sha256File, sh, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

describe('file backend, raw volume', () => {
  it('exports and imports back the same bytes, with backup_status strings and a sha256 file', async () => {
    h = await harness();
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, 64 * MiB, [[0, 3 * MiB], [20 * MiB, 5 * MiB + 123]]);
    const before = await sha256File(vol);

    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id) });
    expect(exp.error).toBeNull();
    expect(exp.state).toBe('succeeded');
    expect(exp.fileName).toMatch(new RegExp(`^volume-${id}-\\d{8}-\\d{6}\\.tgz$`));
    expect((await h.store.overlay('volume', id)).backupStatus).toMatch(/^Export completed at \d{4}-/);
    expect((await h.store.overlay('volume', id)).status).toBeNull();
    const archive = join(h.exportDir, exp.fileName!);
    const shaLine = await readFile(`${archive}.sha256`, 'utf8');
    expect(shaLine).toBe(`${await sha256File(archive)}  ${exp.fileName}\n`);
    expect(sh('sh', ['-c', `cd ${h.exportDir} && sha256sum -c ${exp.fileName}.sha256`])).toContain(': OK');
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);

    // scribble over the volume, then import
    await makeVolumeFile(vol, 64 * MiB, [[1 * MiB, 40 * MiB]]);
    expect(await sha256File(vol)).not.toBe(before);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: exp.fileName! });
    expect(imp.error).toBeNull();
    expect(await sha256File(vol)).toBe(before);
    const ov = (await h.store.overlay('volume', id));
    expect(ov.backupStatus).toMatch(/^Import completed at /);
    expect(ov.status).toBeNull();
    // zero blocks became holes: far fewer blocks allocated than the file size
    expect((await stat(vol)).blocks * 512).toBeLessThan(16 * MiB);
  });
});
