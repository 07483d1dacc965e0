import { execFileSync } from 'node:child_process';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GiB, harness, makeVolumeFile, meta, MiB, newId, runJob, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

/** Just over the 8 GiB - 1 that a tar header's octal size field holds. */
const SIZE = 8 * GiB + MiB;
const SIZE_GIB = SIZE / GiB;
/** 8 GiB of zeros go through gzip/zstd and GNU tar here; generous for a loaded 2-core machine. */
const TIMEOUT = 240_000;

async function readAt(path: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, offset);
    return buf;
  } finally {
    await fh.close();
  }
}

const sh = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8' });

describe('a sparse volume over 8 GiB', () => {
  it('exports to a tar that GNU tar lists and extracts', async () => {
    h = await harness();
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, SIZE, [[0, MiB], [SIZE - MiB, MiB]]);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.error).toBeNull();
    const archive = join(h.exportDir, exp.fileName!);
    // one GNU tar pass: the verbose listing goes to the index file, the member's bytes to stdout
    const index = join(h.dir, 'index.txt');
    const tailHash = sh(`tar -xzvv --index-file='${index}' -O -f '${archive}' volume-${id}.vol | tail -c ${MiB} | sha256sum`);
    expect(tailHash).toBe(sh(`tail -c ${MiB} '${vol}' | sha256sum`));
    const listing = (await readFile(index, 'utf8')).trim().split('\n');
    expect(listing).toHaveLength(1);
    expect(listing[0]).toMatch(new RegExp(`\\s${SIZE}\\s.*volume-${id}\\.vol$`));
  }, TIMEOUT);

  it('imports an archive GNU tar made into a sparse target, leaving holes', async () => {
    h = await harness();
    const id = newId();
    const src = join(h.dir, 'src');
    await mkdir(src);
    const image = join(src, `volume-${id}.vol`);
    await makeVolumeFile(image, SIZE, [[0, MiB], [5 * GiB, MiB], [SIZE - MiB, MiB]]);
    await writeFile(join(src, `volume-${id}.meta`), JSON.stringify(meta(id)));
    // GNU tar writes the big size its own way; zstd instead of gzip only to keep the test fast
    // (the format is recognised by magic bytes, whatever the name says)
    const name = `volume-${id}-20200101-000000.tgz`;
    sh(`tar -C '${src}' -cf - volume-${id}.meta volume-${id}.vol | zstd -q -T0 -1 -o '${join(h.exportDir, name)}'`);
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, SIZE, [[GiB, 4 * MiB]]); // old data that must read as zero afterwards
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: name, sizeGiB: SIZE_GIB });
    expect(imp.error).toBeNull();
    for (const off of [0, 5 * GiB, SIZE - MiB]) expect((await readAt(vol, off, MiB)).equals(await readAt(image, off, MiB))).toBe(true);
    expect((await readAt(vol, GiB, 4 * MiB)).every((b) => b === 0)).toBe(true);
    const st = await stat(vol);
    expect(st.size).toBe(SIZE);
    expect(st.blocks * 512).toBeLessThan(32 * MiB);
  }, TIMEOUT);
});
