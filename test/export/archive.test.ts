import { copyFile, mkdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, makeVolumeFile, meta, MiB, newId, runJob, sha256File, sh, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

interface Member { name: string; type?: tar.Header['type']; data?: Buffer; linkname?: string }

/** Build a tar (optionally gzipped) with tar-stream: lets a test make archives GNU tar would refuse to. */
async function makeTar(members: Member[], gzip = true): Promise<Buffer> {
  const pack = tar.pack();
  const out: Buffer[] = [];
  const done = (async () => { for await (const c of pack) out.push(c as Buffer); })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({ name: m.name, type: m.type ?? 'file', linkname: m.linkname, size: m.data?.length ?? 0 },
        m.data ?? Buffer.alloc(0), (err) => (err ? reject(err) : resolve()));
    });
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(out);
  return gzip ? gzipSync(raw) : raw;
}

async function volumeWithData(id: string, size = 8 * MiB): Promise<{ vol: string; hash: string }> {
  const vol = join(h!.volDir, `volume-${id}`);
  await makeVolumeFile(vol, size, [[0, MiB], [5 * MiB, MiB]]);
  return { vol, hash: await sha256File(vol) };
}

const tinyGiB = 8 / 1024; // an 8 MiB "volume"

describe('GNU tar interoperability', () => {
  it('our archive lists with tar -tvzf (.vol then .meta) and extracts to the same bytes and meta', async () => {
    h = await harness();
    const id = newId();
    const { vol, hash } = await volumeWithData(id);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id, { name: 'v1' }), sizeGiB: tinyGiB });
    expect(exp.error).toBeNull();
    const archive = join(h.exportDir, exp.fileName!);
    const listing = sh('tar', ['-tzf', archive]).trim().split('\n');
    expect(listing).toEqual([`volume-${id}.vol`, `volume-${id}.meta`]);
    // several gzip members one after another: gzip -t and Python's tarfile read them as one stream too
    sh('gzip', ['-t', archive]);
    const py = 'import sys, tarfile\nwith tarfile.open(sys.argv[1], "r:gz") as t:\n  print(" ".join(f"{m.name}:{m.size}" for m in t))';
    expect(sh('python3', ['-c', py, archive]).trim()).toBe(`volume-${id}.vol:${8 * MiB} volume-${id}.meta:${JSON.stringify(meta(id, { name: 'v1' })).length}`);
    const out = join(h.dir, 'out');
    await mkdir(out);
    sh('tar', ['-xzf', archive, '-C', out]);
    expect(await sha256File(join(out, `volume-${id}.vol`))).toBe(hash);
    expect(JSON.parse(await readFile(join(out, `volume-${id}.meta`), 'utf8'))).toEqual(meta(id, { name: 'v1' }));
    expect(await sha256File(vol)).toBe(hash);
  });

  it.each([
    ['meta first', true, true],
    ['vol first', false, true],
    ['vol first, verifyBeforeImport off', false, false],
  ])('imports an archive made the original way (tar -czf, %s)', async (_label, metaFirst, verify) => {
    h = await harness({}, { verifyBeforeImport: verify });
    const id = newId();
    const { vol, hash } = await volumeWithData(id);
    const src = join(h.dir, 'src');
    await mkdir(src);
    await copyFile(vol, join(src, `volume-${id}.vol`));
    await writeFile(join(src, `volume-${id}.meta`), JSON.stringify(meta(id)));
    const name = `volume-${id}-20150227-163553.tgz`;
    const members = metaFirst ? [`volume-${id}.meta`, `volume-${id}.vol`] : [`volume-${id}.vol`, `volume-${id}.meta`];
    sh('tar', ['-czf', join(h.exportDir, name), '-C', src, ...members]);
    await makeVolumeFile(vol, 8 * MiB, [[2 * MiB, 4 * MiB]]);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: name, sizeGiB: tinyGiB });
    expect(imp.error).toBeNull();
    expect(await sha256File(vol)).toBe(hash);
  });
});

describe('compression settings and magic bytes', () => {
  it.each([['zstd', '.tar.zst', ['zstd', '-dc']], ['none', '.tar', ['cat']]] as const)(
    '%s writes %s, readable by the system tools, and imports back whatever its name', async (compression, ext, decomp) => {
      h = await harness({}, { compression });
      const id = newId();
      const { vol, hash } = await volumeWithData(id);
      const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: tinyGiB });
      expect(exp.error).toBeNull();
      expect(exp.fileName!.endsWith(ext)).toBe(true);
      const archive = join(h.exportDir, exp.fileName!);
      expect(sh('sh', ['-c', `${decomp.join(' ')} '${archive}' | tar -tf -`]).trim().split('\n'))
        .toEqual([`volume-${id}.vol`, `volume-${id}.meta`]);
      // the old clients only send .tgz names: the format is recognised by its magic bytes
      const asTgz = `volume-${id}-20200101-000000.tgz`;
      await rename(archive, join(h.exportDir, asTgz));
      await makeVolumeFile(vol, 8 * MiB);
      const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: asTgz, sizeGiB: tinyGiB });
      expect(imp.error).toBeNull();
      expect(await sha256File(vol)).toBe(hash);
    });
});

describe('archives that must not touch the volume', () => {
  const other = '11111111-2222-3333-4444-555555555555';
  const cases: Array<[string, (id: string) => Promise<Buffer>, RegExp]> = [
    ['a path escape member', (id) => makeTar([{ name: `../volume-${id}.vol`, data: Buffer.alloc(512, 1) }, { name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(id))) }]), /unexpected member/],
    ['an absolute member name', (id) => makeTar([{ name: `/tmp/volume-${id}.vol`, data: Buffer.alloc(512, 1) }]), /unexpected member/],
    ['a symlink member', (id) => makeTar([{ name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(id))) }, { name: `volume-${id}.vol`, type: 'symlink', linkname: '/etc/passwd' }]), /is a symlink, not a file/],
    ['a hardlink member', (id) => makeTar([{ name: `volume-${id}.vol`, type: 'link', linkname: '/etc/passwd' }]), /is a link, not a file/],
    ['an extra member', (id) => makeTar([{ name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(id))) }, { name: 'run.sh', data: Buffer.from('x') }, { name: `volume-${id}.vol`, data: Buffer.alloc(512, 1) }]), /unexpected member "run.sh"/],
    ['meta version 2', (id) => makeTar([{ name: `volume-${id}.vol`, data: Buffer.alloc(512, 1) }, { name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify({ ...meta(id), version: 2 })) }]), /unsupported volume meta version 2/],
    ['another volume in the meta', (id) => makeTar([{ name: `volume-${id}.vol`, data: Buffer.alloc(512, 1) }, { name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(other))) }]), new RegExp(`Volume ID being imported \\(${other}\\) does not match destination volume ID \\(`)],
    ['another volume in the names', () => makeTar([{ name: `volume-${other}.meta`, data: Buffer.from(JSON.stringify(meta(other))) }, { name: `volume-${other}.vol`, data: Buffer.alloc(512, 1) }]), /Volume ID being imported \(11111111-2222-3333-4444-555555555555\) does not match/],
    ['an image larger than the volume', (id) => makeTar([{ name: `volume-${id}.meta`, data: Buffer.from(JSON.stringify(meta(id))) }, { name: `volume-${id}.vol`, data: Buffer.alloc(9 * MiB, 1) }]), /image \(9437184 bytes\) is larger than the volume/],
    ['no meta', (id) => makeTar([{ name: `volume-${id}.vol`, data: Buffer.alloc(512, 1) }]), /archive has no meta member/],
    ['not an archive', async () => Buffer.from('hello, this is not a tar file at all'), /not a tar archive/],
  ];

  it.each(cases)('refuses %s', async (_label, build, reason) => {
    h = await harness();
    const id = newId();
    const { vol, hash } = await volumeWithData(id);
    const name = `volume-${id}-20200101-000000.tgz`;
    await writeFile(join(h.exportDir, name), await build(id));
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: name, sizeGiB: tinyGiB });
    expect(imp.state).toBe('failed');
    expect(imp.error).toMatch(reason);
    expect(await sha256File(vol)).toBe(hash);
    const ov = (await h.store.overlay('volume', id));
    expect(ov.status).toBe('error');
    expect(ov.backupStatus).toMatch(/^Import failed at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\. Reason: /);
  });

  it.each([
    ['corrupted, no checksum file', 'corrupt', false, /incorrect data check|invalid|unexpected|header/i],
    ['truncated, no checksum file', 'truncate', false, /unexpected end of file|Unexpected end/i],
    ['corrupted, with our checksum file', 'corrupt', true, /does not match its checksum file/],
    ['truncated, with our checksum file', 'truncate', true, /does not match its checksum file/],
  ] as const)('refuses an archive %s and leaves the volume untouched', async (_l, damage, keepSha, reason) => {
    h = await harness();
    const id = newId();
    const { vol } = await volumeWithData(id);
    await makeVolumeFile(vol, 8 * MiB, [[0, 8 * MiB]]); // incompressible: a corrupted byte lands in stored data
    const exported = await sha256File(vol);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: tinyGiB });
    expect(exp.error).toBeNull();
    const archive = join(h.exportDir, exp.fileName!);
    if (!keepSha) await rm(`${archive}.sha256`);
    if (damage === 'truncate') {
      await truncate(archive, 5 * MiB);
    } else {
      const buf = await readFile(archive);
      for (let i = 0; i < 16; i++) buf[3 * MiB + i * 1000]! ^= 0x55;
      await writeFile(archive, buf);
    }
    await makeVolumeFile(vol, 8 * MiB, [[MiB, MiB]]);
    const target = await sha256File(vol);
    expect(target).not.toBe(exported);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: exp.fileName!, sizeGiB: tinyGiB });
    expect(imp.state).toBe('failed');
    expect(imp.error).toMatch(reason);
    expect(await sha256File(vol)).toBe(target);
  });
});
