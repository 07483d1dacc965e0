import { execFileSync } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { makeBackend } from '../../src/export/backends/index.js';
import { isHole } from '../../src/export/zero.js';
import { loopDevice } from './loop.js';
import { GiB, harness, makeVolumeFile, meta, MiB, newId, RAM_DIR, runJob, sha256File, sh, type Harness } from './helpers.js';
import { allocated, membersOf, readersSha256 } from './sparse-helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

/** The machine is shared and these read every byte back through three tools. */
const SLOW = 240_000;

/** Export, check every reader gets the volume's bytes and the archive is small; returns the archive path. */
async function exportChecked(id: string, volumeSha: string, sizeGiB: number, params: Record<string, unknown> = {}): Promise<string> {
  const exp = await runJob(h!, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB, ...params });
  expect(exp.error).toBeNull();
  // progress counts the volume's logical bytes, holes included
  expect(exp.bytesDone).toBe(exp.bytesTotal);
  const archive = join(h!.exportDir, exp.fileName!);
  expect(readersSha256(archive, id)).toEqual({ gnuTar: volumeSha, gzipD: volumeSha, python: volumeSha });
  return archive;
}

/** How many bytes a backend's source hands over as data (the rest comes as holes, never read). */
async function dataBytesRead(backendCfg: Record<string, unknown>, id: string, sizeBytes: number): Promise<{ data: number; total: number }> {
  const backend = makeBackend(configSchema.parse({ backends: [backendCfg] }).backends[0]!);
  const source = await backend.openRead({ volumeId: id, sizeBytes }, new AbortController().signal);
  let data = 0;
  let total = 0;
  try {
    for await (const p of source.pieces) {
      const n = isHole(p) ? p.hole : p.length;
      total += n;
      if (!isHole(p)) data += n;
    }
    await source.done;
  } finally {
    source.close();
  }
  return { data, total };
}

describe('raw sparse file', () => {
  it('reads only the data, writes holes as the shared zero member, imports keeping holes; every reader agrees', async () => {
    h = await harness();
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    const size = 160 * MiB;
    // unaligned runs, one reaching the end of the volume
    await makeVolumeFile(vol, size, [[0, 3 * MiB], [70 * MiB + 12345, 5 * MiB], [size - MiB, MiB]]);
    const sha = await sha256File(vol);

    const read = await dataBytesRead({ name: 'f', type: 'file', volumePath: `${h.volDir}/volume-{id}` }, id, size);
    expect(read.total).toBe(size);
    expect(read.data).toBeLessThan(12 * MiB);

    const archive = await exportChecked(id, sha, size / GiB);
    const members = await membersOf(archive);
    const zero = members.filter((m) => m.zero);
    expect(zero.length).toBeGreaterThan(30);
    // every hole block is the same few KB
    expect(new Set(zero.map((m) => m.length)).size).toBe(1);
    expect(zero[0]!.length).toBeLessThan(8192);

    // import with the .sha256, then without (verify pass over the index), into a scribbled volume
    for (const dropSha of [false, true]) {
      if (dropSha) await rm(`${archive}.sha256`);
      await makeVolumeFile(vol, size, [[MiB, 60 * MiB]]);
      const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: archive.split('/').pop()!, sizeGiB: size / GiB });
      expect(imp.error).toBeNull();
      expect(imp.bytesDone).toBe(imp.bytesTotal);
      expect(await sha256File(vol)).toBe(sha);
      expect(await allocated(vol)).toBeLessThan(16 * MiB);
    }
  }, SLOW);
});

describe('qcow2 chains', () => {
  async function chain(mount: string, id: string, baseData: Array<[number, number]>) {
    const base = join(mount, `volume-${id}`);
    const snapId = newId();
    const overlay = `${base}.${snapId}`;
    await makeVolumeFile(base, 128 * MiB, baseData);
    sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', `volume-${id}`, '-F', 'raw', overlay]);
    sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 100M 3M', '-c', 'write -P 0x33 120M 1M', overlay]);
    await writeFile(`${base}.info`, JSON.stringify({ active: `volume-${id}.${snapId}`, [snapId]: `volume-${id}.${snapId}` }));
    const flat = join(h!.dir, `flat-${id}.raw`);
    sh('qemu-img', ['convert', '-O', 'raw', overlay, flat]);
    return { overlay, flat };
  }

  it.each([
    ['holes in base and overlay', [[0, 2 * MiB], [40 * MiB, MiB]] as Array<[number, number]>],
    ['data in the overlay only', [] as Array<[number, number]>],
  ])('round-trips a chain with %s, reading only the data', async (_label, baseData) => {
    h = await harness();
    const id = newId();
    const { overlay, flat } = await chain(h.volDir, id, baseData);
    const sha = await sha256File(flat);
    const read = await dataBytesRead({ name: 'f', type: 'file', volumePath: `${h.volDir}/volume-{id}` }, id, 128 * MiB);
    expect(read.total).toBe(128 * MiB);
    // small gaps are read rather than paying a helper per range, but the big holes are not read
    expect(read.data).toBeLessThan(40 * MiB);

    const archive = await exportChecked(id, sha, 0.125);
    expect((await membersOf(archive)).filter((m) => m.zero).length).toBeGreaterThan(20);
    sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x77 0 8M', overlay]);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: archive.split('/').pop()!, sizeGiB: 0.125 });
    expect(imp.error).toBeNull();
    sh('qemu-img', ['convert', '-O', 'raw', overlay, flat]);
    expect(await sha256File(flat)).toBe(sha);
  }, SLOW);
});

describe('devices and commands', () => {
  it('round-trips a loop device with holes (zero detection, no map)', async () => {
    h = await harness((dir) => ({ backends: [{ name: 'lvm', type: 'block', volumePath: `${dir}/dev/volume-{id}` }] }), {}, RAM_DIR);
    const id = newId();
    const backing = join(h.dir, 'loop.img');
    await makeVolumeFile(backing, 64 * MiB, [[0, 4 * MiB], [30 * MiB + 7, 2 * MiB]]);
    const dev = loopDevice(h, backing, id);
    const sha = await sha256File(dev);
    const archive = await exportChecked(id, sha, 1 / 16);
    expect((await membersOf(archive)).filter((m) => m.zero).length).toBeGreaterThan(10);
    sh('dd', ['if=/dev/urandom', `of=${dev}`, 'bs=1M', 'count=8', 'seek=40', 'conv=fsync', 'status=none']);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: archive.split('/').pop()!, sizeGiB: 1 / 16 });
    expect(imp.error).toBeNull();
    expect(await sha256File(dev)).toBe(sha);
  }, SLOW);

  const data: Array<[number, number]> = [[0, 2 * MiB], [60 * MiB + 3, 3 * MiB], [127 * MiB, MiB]];
  const mapJson = JSON.stringify(data.map(([offset, length]) => ({ offset, length, exists: 'true' })));

  it.each([
    ['no map', undefined, (dir: string) => ['head', '-c', '{size_bytes}', `${dir}/vols/volume-{id}`]],
    ['a map and a ranged export command', true, (dir: string) =>
      ['dd', `if=${dir}/vols/volume-{id}`, 'bs=1M', 'iflag=skip_bytes,count_bytes', 'skip={offset}', 'count={length}', 'status=none']],
    ['a map and a whole-stream export command', true, (dir: string) => ['head', '-c', '{size_bytes}', `${dir}/vols/volume-{id}`]],
  ])('command backend with %s round-trips', async (_label, withMap, exportCommand) => {
    h = await harness((dir) => ({
      backends: [{
        name: 'cmd', type: 'command', exportCommand: exportCommand(dir),
        ...(withMap ? { mapCommand: ['cat', `${dir}/vols/map-{id}.json`] } : {}),
        importCommand: ['dd', `of=${dir}/vols/volume-{volume_id}`, 'bs=1M', 'conv=notrunc,fsync', 'status=none'],
      }],
    }), {}, RAM_DIR);
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, 128 * MiB, data);
    await writeFile(join(h.volDir, `map-${id}.json`), mapJson);
    const sha = await sha256File(vol);
    if (withMap) {
      const cfg = (h.config.backends[0] as Record<string, unknown>);
      const read = await dataBytesRead(cfg, id, 128 * MiB);
      // a ranged command reads only the extents; a whole stream drops what the map calls holes
      expect(read.data).toBeLessThan(10 * MiB);
    }
    const archive = await exportChecked(id, sha, 0.125);
    await makeVolumeFile(vol, 128 * MiB, [[50 * MiB, 20 * MiB]]);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: archive.split('/').pop()!, sizeGiB: 0.125 });
    expect(imp.error).toBeNull();
    expect(await sha256File(vol)).toBe(sha);
  }, SLOW);
});
