import { copyFile, mkdir, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyArchive } from '../../src/export/archive/verify.js';
import { runCli } from '../helpers/cli.js';
import { harness, makeVolumeFile, meta, MiB, newId, runJob, sh, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

const tinyGiB = 8 / 1024;

/** One of our exports of an 8 MiB volume with data in two places. */
async function exported(compression: 'gzip' | 'zstd' | 'none' = 'gzip'): Promise<{ id: string; archive: string }> {
  h ??= await harness({}, { compression });
  const id = newId();
  await makeVolumeFile(join(h.volDir, `volume-${id}`), 8 * MiB, [[0, MiB], [5 * MiB, MiB]]);
  const job = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: tinyGiB });
  expect(job.error).toBeNull();
  return { id, archive: join(h.exportDir, job.fileName!) };
}

async function tgz(members: { name: string; data: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => { for await (const c of pack) out.push(c as Buffer); })();
  for (const m of members) pack.entry({ name: m.name, size: m.data.length }, m.data);
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat(out));
}

describe('verifyArchive', () => {
  it.each(['gzip', 'zstd', 'none'] as const)('passes our %s archive, its .sha256 checked', async (compression) => {
    const { id, archive } = await exported(compression);
    const r = await verifyArchive(archive);
    expect(r).toMatchObject({ ok: true, volumeId: id, imageBytes: 8 * MiB, sha256Checked: true });
  });

  it('passes an original `tar -czf` archive (GNU tar, no checksum file)', async () => {
    h = await harness();
    const id = newId();
    const work = join(h.dir, 'orig');
    await mkdir(work);
    await makeVolumeFile(join(work, `volume-${id}.vol`), 4 * MiB, [[MiB, MiB]]);
    await writeFile(join(work, `volume-${id}.meta`), JSON.stringify(meta(id)));
    const archive = join(h.exportDir, `volume-${id}-20150227-163553.tgz`);
    sh('tar', ['-czf', archive, '-C', work, `volume-${id}.meta`, `volume-${id}.vol`]);
    expect(await verifyArchive(archive)).toMatchObject({ ok: true, volumeId: id, imageBytes: 4 * MiB, sha256Checked: false });
  });

  it('fails a truncated archive', async () => {
    const { archive } = await exported();
    await rm(`${archive}.sha256`); // no checksum file: the stream itself must tell
    await truncate(archive, Math.floor((await stat(archive)).size / 2));
    const r = await verifyArchive(archive);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/end|truncat|unexpected/i);
  });

  it('fails a bit-flipped archive, by its checksum file and, without one, by gzip\'s CRC', async () => {
    const { archive } = await exported();
    const fh = await open(archive, 'r+');
    const size = (await fh.stat()).size;
    const at = Math.floor(size / 3);
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x10;
    await fh.write(b, 0, 1, at);
    await fh.close();
    expect(await verifyArchive(archive)).toMatchObject({ ok: false, error: expect.stringMatching(/checksum file/) });
    const bare = archive.replace(/\.tgz$/, '.copy.tgz');
    await copyFile(archive, bare);
    const r = await verifyArchive(bare);
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/check|invalid|incorrect|header/i);
  });

  it('fails archives with a wrong member or a wrong meta', async () => {
    h = await harness();
    const id = newId();
    const other = newId();
    const vol = Buffer.alloc(MiB, 7);
    const good = Buffer.from(JSON.stringify(meta(id)));
    const cases: [string, { name: string; data: Buffer }[], RegExp][] = [
      ['extra member', [{ name: `volume-${id}.vol`, data: vol }, { name: `volume-${id}.meta`, data: good }, { name: 'evil.sh', data: vol }], /unexpected member/],
      ['other volume\'s member', [{ name: `volume-${other}.vol`, data: vol }, { name: `volume-${id}.meta`, data: good }], /does not match/],
      ['no meta', [{ name: `volume-${id}.vol`, data: vol }], /no meta member/],
      ['meta of another volume', [{ name: `volume-${id}.vol`, data: vol }, { name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(other))) }], /does not match/],
      ['meta version 2', [{ name: `volume-${id}.vol`, data: vol }, { name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify({ ...meta(id), version: 2 })) }], /version/],
      ['meta not JSON', [{ name: `volume-${id}.vol`, data: vol }, { name: `volume-${id}.meta`, data: Buffer.from('{') }], /not valid JSON/],
      ['image larger than the volume', [{ name: `volume-${id}.vol`, data: vol }, { name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(id, { size: 0 }))) }], /larger than the volume/],
    ];
    for (const [what, members, error] of cases) {
      const file = join(h.exportDir, `case-${what.replace(/\W+/g, '-')}.tgz`);
      await writeFile(file, await tgz(members));
      const r = await verifyArchive(file);
      expect(r.ok, what).toBe(false);
      expect(r.error, what).toMatch(error);
    }
    // the file name says which volume: members of another one are refused even when they agree with each other
    const renamed = join(h.exportDir, `volume-${other}-20261201-000000.tgz`);
    await writeFile(renamed, await tgz([{ name: `volume-${id}.vol`, data: vol }, { name: `volume-${id}.meta`, data: good }]));
    expect((await verifyArchive(renamed)).error).toMatch(/does not match/);
  });
});

describe('stx-cinder-proxy verify (the real CLI)', () => {
  it('exits 0 when every archive holds, 1 when one does not, and says which', async () => {
    const { id, archive } = await exported();
    const ok = await runCli(['verify', archive]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(`OK      ${archive}: volume ${id}`);
    const broken = join(h!.dir, 'broken.tgz');
    await writeFile(broken, (await readFile(archive)).subarray(0, 4096));
    const bad = await runCli(['verify', archive, broken, '-f', 'json']);
    expect(bad.code).toBe(1);
    const reports = JSON.parse(bad.stdout);
    expect(reports.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
  });
});
