import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { harness, makeVolumeFile, meta, MiB, newId, runJob, sha256File, sh, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

/** The NFS driver's layout after one snapshot: raw base, qcow2 overlay on top, `.info` naming both. */
async function nfsVolumeWithSnapshot(mnt: string, id: string, snapId: string) {
  const base = join(mnt, `volume-${id}`);
  const overlay = `${base}.${snapId}`;
  await makeVolumeFile(base, 32 * MiB, [[0, 2 * MiB], [10 * MiB, 1 * MiB]]);
  sh('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', `volume-${id}`, '-F', 'raw', overlay]);
  sh('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 1M 3M', '-c', 'write -z 10M 512k', overlay]);
  await writeFile(`${base}.info`, JSON.stringify({ active: `volume-${id}.${snapId}`, [snapId]: `volume-${id}.${snapId}` }));
  return { base, overlay };
}

describe('file backend, NFS driver layout with a qcow2 overlay', () => {
  it('exports the snapshot (the overlay backing file) and the volume (the whole chain), and imports both back', async () => {
    h = await harness((dir) => ({ backends: [{ name: 'nfs', type: 'file', volumePath: `${dir}/mnt/*/volume-{id}` }] }));
    // the NFS mount point is named by an md5 hash: the template finds it with `*`
    await mkdir(join(h.dir, 'mnt', 'not-this-one'), { recursive: true });
    const mount = join(h.dir, 'mnt', '0123456789abcdef0123456789abcdef');
    await mkdir(mount, { recursive: true });
    const id = newId();
    const snapId = newId();
    const { base, overlay } = await nfsVolumeWithSnapshot(mount, id, snapId);
    const snapHash = await sha256File(base);
    const flat = join(h.dir, 'flat.raw');
    sh('qemu-img', ['convert', '-O', 'raw', overlay, flat]);
    const volHash = await sha256File(flat);
    expect(volHash).not.toBe(snapHash);

    const snapExp = await runJob(h, 'snapshot-export', { volumeId: id, snapshotId: snapId, meta: meta(id) });
    expect(snapExp.error).toBeNull();
    expect(snapExp.fileName).toMatch(new RegExp(`^volume-${id}-`));
    expect((await h.store.overlay('snapshot', snapId)).backupStatus).toMatch(/^Export completed at /);
    expect((await h.store.overlay('volume', id)).backupStatus).toMatch(/^Snapshot export completed at /);

    const volExp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id) });
    expect(volExp.error).toBeNull();

    // extract the .vol members with GNU tar and compare
    for (const [job, hash] of [[snapExp, snapHash], [volExp, volHash]] as const) {
      const out = sh('sh', ['-c', `tar -xzOf '${join(h.exportDir, job.fileName!)}' volume-${id}.vol | sha256sum`]);
      expect(out.split(' ')[0]).toBe(hash);
    }

    // import the snapshot's archive: the volume is still an overlay, so the write goes through qemu
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: snapExp.fileName! });
    expect(imp.error).toBeNull();
    sh('qemu-img', ['convert', '-O', 'raw', overlay, flat]);
    expect(await sha256File(flat)).toBe(snapHash);
    expect(sh('qemu-img', ['info', '--output=json', overlay])).toContain('"format": "qcow2"');
  });
});
