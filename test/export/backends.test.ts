import { execFileSync } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loopDevice } from './loop.js';
import { harness, RAM_DIR, makeVolumeFile, meta, MiB, newId, runJob, sha256File, sh, type Harness } from './helpers.js';
import { chooseBackend } from '../../src/export/backends/index.js';
import { configSchema } from '../../src/config/schema.js';

/** Cinder sizes are whole GiB; a fraction keeps these tests fast (the engine only multiplies it). */
const SIZE_GIB = 1 / 16;

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

describe('block backend', () => {
  it('round-trips a loop device, the size coming from Cinder (sizeGiB), not stat', async () => {
    h = await harness((dir) => ({ backends: [{ name: 'lvm', type: 'block', volumePath: `${dir}/dev/volume-{id}` }] }), {}, RAM_DIR);
    const id = newId();
    const backing = join(h.dir, 'loop.img');
    await makeVolumeFile(backing, 64 * MiB, [[0, 4 * MiB], [40 * MiB, 2 * MiB]]);
    const dev = loopDevice(h, backing, id);
    const before = await sha256File(dev);

    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.error).toBeNull();
    sh('dd', ['if=/dev/urandom', `of=${dev}`, 'bs=1M', 'count=8', 'seek=20', 'conv=fsync', 'status=none']);
    expect(await sha256File(dev)).not.toBe(before);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: exp.fileName!, sizeGiB: SIZE_GIB });
    expect(imp.error).toBeNull();
    expect(await sha256File(dev)).toBe(before);
  });
});

describe('command backend', () => {
  it('streams through argv templates with per-argument substitution and no shell', async () => {
    h = await harness((dir) => ({
      backends: [{
        name: 'cmd', type: 'command',
        exportCommand: ['head', '-c', '{size_bytes}', `${dir}/vols/volume-{id}`],
        snapshotExportCommand: ['cat', `${dir}/vols/snap-{snapshot_id}`],
        importCommand: ['dd', `of=${dir}/vols/volume-{volume_id}`, 'bs=1M', 'conv=notrunc,fsync', 'status=none'],
      }],
    }), {}, RAM_DIR);
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, 64 * MiB, [[0, 3 * MiB]]);
    const before = await sha256File(vol);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.error).toBeNull();
    await makeVolumeFile(vol, 64 * MiB, [[MiB, 3 * MiB]]);
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: exp.fileName!, sizeGiB: SIZE_GIB });
    expect(imp.error).toBeNull();
    expect(await sha256File(vol)).toBe(before);

    // a snapshot whose command produces fewer bytes than the size fails, and leaves nothing behind
    const snapId = newId();
    await writeFile(join(h.volDir, `snap-${snapId}`), 'short');
    const snap = await runJob(h, 'snapshot-export', { volumeId: id, snapshotId: snapId, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(snap.state).toBe('failed');
    expect(snap.error).toMatch(/ended after 5 of 67108864 bytes/);
    expect((await h.store.overlay('snapshot', snapId)).backupStatus).toMatch(/^Export failed at .*\. Reason: volume data ended/);
    expect((await h.store.overlay('volume', id)).backupStatus).toMatch(/^Snapshot export failed at .*\. Reason: /);
    expect((await readdir(h.exportDir)).sort()).toEqual([exp.fileName, `${exp.fileName}.sha256`, 'temp'].sort());
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);
  });

  it('turns a failing command into the job reason (exit status and stderr tail)', async () => {
    h = await harness(() => ({
      backends: [{ name: 'cmd', type: 'command', exportCommand: ['cat', '/nonexistent/{id}'], importCommand: ['false'] }],
    }));
    const id = newId();
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.state).toBe('failed');
    expect(exp.error).toContain(`cat exited with status 1: cat: /nonexistent/${id}: No such file or directory`);
  });

  it('fails a job whose command hangs without output (stall watchdog), leaving nothing behind', async () => {
    h = await harness(() => ({
      backends: [{ name: 'cmd', type: 'command', exportCommand: ['sleep', '600'], importCommand: ['false'] }],
    }), { stallTimeoutMs: 300 });
    const id = newId();
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.state).toBe('failed');
    expect(exp.error).toMatch(/^stalled: no data moved for \d+ s$/);
    expect(exp.errorCode).toBe('stalled');
    expect((await h.store.overlay('volume', id))).toMatchObject({ status: null, backupStatus: expect.stringMatching(/^Export failed at .*Reason: stalled/) });
    expect((await readdir(h.exportDir)).filter((n) => n !== 'temp')).toEqual([]);
    expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);
    // the helper process was killed with the job
    expect(() => execFileSync('pgrep', ['-f', '^sleep 600$'])).toThrow();
  });
});

describe('failures that leave nothing half-done', () => {
  it('an import command that fails gives its exit status and stderr as the reason, volume in error', async () => {
    h = await harness(() => ({
      backends: [{ name: 'cmd', type: 'command', exportCommand: ['head', '-c', '{size_bytes}', '/dev/zero'],
        importCommand: ['sh', '-c', 'head -c 1000 >/dev/null; echo "rbd: import failed: {id}" >&2; exit 3'] }],
    }));
    const id = newId();
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.error).toBeNull();
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: exp.fileName!, sizeGiB: SIZE_GIB });
    expect(imp).toMatchObject({ error: `sh exited with status 3: rbd: import failed: ${id}`, errorCode: 'backendFailed' });
    expect((await h.store.overlay('volume', id)).status).toBe('error');
  });

  it('a system error gives its code and file name as the reason, not the server\'s directories', async () => {
    h = await harness();
    const id = newId();
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp).toMatchObject({ state: 'failed', errorCode: 'backendFailed' });
    expect(exp.error).toMatch(new RegExp(`^ENOENT: no such file or directory, \\w+ 'volume-${id}'$`));
    expect(exp.error).not.toContain(h.dir);
    expect((await h.store.overlay('volume', id)).backupStatus).not.toContain(h.volDir);
  });

  it('refuses a .info that names a file outside the volume directory', async () => {
    h = await harness();
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), MiB);
    await writeFile(join(h.volDir, `volume-${id}.info`), JSON.stringify({ active: '../../../etc/passwd' }));
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 1 / 1024 });
    expect(exp.error).toBe(`volume-${id}.info names an invalid file`);
  });

  it('reads snapshots from a snapshotPath template when one is configured', async () => {
    h = await harness((dir) => ({
      backends: [{ name: 'f', type: 'file', volumePath: `${dir}/vols/volume-{id}`, snapshotPath: `${dir}/vols/snap-{snapshot_id}` }],
    }));
    const id = newId();
    const snapId = newId();
    await makeVolumeFile(join(h.volDir, `snap-${snapId}`), 2 * MiB, [[0, MiB]]);
    const exp = await runJob(h, 'snapshot-export', { volumeId: id, snapshotId: snapId, meta: meta(id), sizeGiB: 2 / 1024 });
    expect(exp.error).toBeNull();
    const out = execFileSync('sh', ['-c', `tar -xzOf '${join(h.exportDir, exp.fileName!)}' volume-${id}.vol | sha256sum`], { encoding: 'utf8' });
    expect(out.split(' ')[0]).toBe(await sha256File(join(h.volDir, `snap-${snapId}`)));
  });
});

describe('backend choice', () => {
  it('matches hostPattern, else defaultBackend, else the first', () => {
    const cfg = configSchema.parse({
      backends: [
        { name: 'a', type: 'file', volumePath: '/a/{id}' },
        { name: 'b', type: 'block', volumePath: '/b/{id}', hostPattern: '@lvm' },
        { name: 'c', type: 'command', exportCommand: ['x'], importCommand: ['y'], hostPattern: '^ceph' },
      ],
      defaultBackend: 'c',
    });
    const pick = (host: string | null) => chooseBackend(cfg, host);
    expect(pick('host@lvm#pool')).toBe('b');
    expect(pick('ceph@rbd')).toBe('c');
    expect(pick('other@nfs')).toBe('c');
    expect(pick(null)).toBe('c');
    expect(chooseBackend({ ...cfg, defaultBackend: undefined }, 'other')).toBe('a');
  });
});
