import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { startProxy } from '../../src/main.js';
import { FakeCinder } from '../helpers/fake-cinder.js';
import { harness, makeVolumeFile, meta, MiB, newId, recordJob, runJob, waitFinished, waitForJob, type Harness } from './helpers.js';

let h: Harness | undefined;
let umask: number;
// a permissive umask: a mode that is not set explicitly shows up as 0644/0755 or wider
beforeEach(() => { umask = process.umask(0o000); });
afterEach(async () => { process.umask(umask); await h?.cleanup(); h = undefined; });

const modeOf = async (p: string) => (await stat(p)).mode & 0o7777;
const SIZE_GIB = 4 / 1024;

async function withSnapshots(fileMode?: string): Promise<Harness> {
  return harness((dir) => ({
    backends: [{ name: 'files', type: 'file', volumePath: `${dir}/vols/volume-{id}`, snapshotPath: `${dir}/vols/snap-{snapshot_id}` }],
  }), fileMode === undefined ? {} : { fileMode });
}

/** Every file under the export directory with its mode, temp/ included. */
async function modes(dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const name of await readdir(dir)) out[name] = await modeOf(join(dir, name));
  for (const name of await readdir(join(dir, 'temp'))) out[`temp/${name}`] = await modeOf(join(dir, 'temp', name));
  return out;
}

describe('modes of what the engine writes', () => {
  it('volume and snapshot exports: archive and .sha256 0600, temp/ created 0700, whatever the umask', async () => {
    h = await withSnapshots();
    const id = newId();
    const snapId = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 4 * MiB, [[0, MiB]]);
    await makeVolumeFile(join(h.volDir, `snap-${snapId}`), 4 * MiB, [[0, MiB]]);
    const vol = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    const snap = await runJob(h, 'snapshot-export', { volumeId: id, snapshotId: snapId, meta: meta(id), sizeGiB: SIZE_GIB });
    expect([vol.error, snap.error]).toEqual([null, null]);
    expect(await modes(h.exportDir)).toEqual({
      temp: 0o700,
      [vol.fileName!]: 0o600, [`${vol.fileName}.sha256`]: 0o600,
      [snap.fileName!]: 0o600, [`${snap.fileName}.sha256`]: 0o600,
    });
  });

  it('the temp file is 0600 while the job runs; an interrupted export leaves nothing', async () => {
    h = await harness({}, { bandwidthBytesPerSec: 4 * MiB });
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 64 * MiB, [[0, 64 * MiB]]);
    const job = await recordJob(h.store, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 64 / 1024 });
    h.engine.submit(job);
    // bytes have moved only once the archive's temp file is open (the writer opens it before pulling data)
    await waitForJob(h.store, job.id, (j) => j.bytesDone > 0);
    const temp = await readdir(join(h.exportDir, 'temp'));
    expect(temp).toEqual([expect.stringMatching(/\.part$/)]);
    expect(await modeOf(join(h.exportDir, 'temp', temp[0]!))).toBe(0o600);
    await h.engine.shutdown(0);
    expect((await waitFinished(h.store, job.id)).errorCode).toBe('shuttingDown');
    expect(await modes(h.exportDir)).toEqual({ temp: 0o700 });
  });

  it('engine.fileMode 0640 widens them exactly, even under umask 077', async () => {
    process.umask(0o077);
    h = await harness({}, { fileMode: '0640' });
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 4 * MiB, [[0, MiB]]);
    const vol = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(await modes(h.exportDir)).toEqual({ temp: 0o700, [vol.fileName!]: 0o640, [`${vol.fileName}.sha256`]: 0o640 });
  });

  it('an existing temp/ keeps its mode', async () => {
    h = await harness();
    await mkdir(join(h.exportDir, 'temp'));
    await chmod(join(h.exportDir, 'temp'), 0o755);
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 4 * MiB, [[0, MiB]]);
    const vol = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(await modes(h.exportDir)).toEqual({ temp: 0o755, [vol.fileName!]: 0o600, [`${vol.fileName}.sha256`]: 0o600 });
  });
});

describe('directories the proxy creates at start', () => {
  it('dataDir and temp/ are 0700, a new export directory matches fileMode; existing ones are not loosened', async () => {
    const fake = await new FakeCinder().start();
    h = await harness();
    const base = (k: string) => configSchema.parse({
      listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url },
      dataDir: join(h!.dir, k, 'state', 'data'), exportDir: join(h!.dir, k, 'exports'), engine: { fileMode: '0640' },
    });
    try {
      const proxy = await startProxy(base('new'), silentLogger());
      await proxy.close();
      expect(await modeOf(join(h.dir, 'new', 'state'))).toBe(0o700);
      expect(await modeOf(join(h.dir, 'new', 'state', 'data'))).toBe(0o700);
      expect(await modeOf(join(h.dir, 'new', 'exports'))).toBe(0o750);
      expect(await modeOf(join(h.dir, 'new', 'exports', 'temp'))).toBe(0o700);

      await mkdir(join(h.dir, 'old', 'state', 'data'), { recursive: true, mode: 0o755 });
      await mkdir(join(h.dir, 'old', 'exports'), { mode: 0o777 });
      const again = await startProxy(base('old'), silentLogger());
      await again.close();
      expect(await modeOf(join(h.dir, 'old', 'state', 'data'))).toBe(0o755);
      expect(await modeOf(join(h.dir, 'old', 'exports'))).toBe(0o777);
      expect(await modeOf(join(h.dir, 'old', 'exports', 'temp'))).toBe(0o700);
    } finally {
      await fake.close();
    }
  });
});

describe('engine.fileMode in the config', () => {
  const parse = (fileMode: unknown) => configSchema.safeParse({ engine: { fileMode } });
  it('takes octal strings and numbers; defaults to 0600', () => {
    expect(configSchema.parse({}).engine.fileMode).toBe(0o600);
    for (const v of ['0640', '640', '0o640', 0o640]) expect(parse(v)).toMatchObject({ success: true, data: { engine: { fileMode: 0o640 } } });
  });
  it('refuses execute bits, an owner who cannot write, non-octal text, and YAML 0640 read as decimal', () => {
    for (const v of ['0755', '0400', '0648', 'rw-r-----', -1, 1.5]) expect(parse(v).success).toBe(false);
    expect(parse(640).error?.issues[0]?.message).toMatch(/write an octal mode as a string/);
  });
});
