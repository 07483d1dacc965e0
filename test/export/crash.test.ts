import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/export/engine.js';
import { silentLogger } from '../../src/log.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { harness, makeVolumeFile, meta, MiB, newId, runJob, sha256File, TEST_REPLICA, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

// vitest runs from the repository root
const CHILD = join(process.cwd(), 'test', 'export', 'fixtures', 'crash-child.ts');

/** Run the child until its job has moved bytes, then SIGKILL it. Returns the job id. */
async function killMidway(configPath: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const jobId = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /running (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before the job ran: ${out}`)));
  });
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  return jobId;
}

async function restart(h: Harness) {
  const store = new SqliteStateStore(join(h.config.dataDir, 'state.db'));
  // the same replica id as the killed process: a restart of that replica
  const engine = createEngine({ config: h.config, store, logger: silentLogger(), replicaId: TEST_REPLICA });
  await engine.recover();
  return { store, close: async () => { await engine.shutdown(0); await store.close(); } };
}

const INTERRUPTED = `interrupted: replica ${TEST_REPLICA} stopped renewing its lease`;

describe('kill -9 mid-job, then restart', () => {
  it('export: no partial archive visible, temp removed, job failed "interrupted", volume not exporting', async () => {
    h = await harness({}, { bandwidthBytesPerSec: 16 * MiB }, undefined, { start: false });
    const id = newId();
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 256 * MiB, [[0, 256 * MiB]]);
    const configPath = join(h.dir, 'config.json');
    await writeFile(configPath, JSON.stringify({ ...h.config }));
    const jobId = await killMidway(configPath, ['volume-export', id]);
    expect((await readdir(join(h.exportDir, 'temp'))).length).toBeGreaterThan(0); // it was mid-write

    const { store, close } = await restart(h);
    try {
      const job = (await store.getJob(jobId))!;
      expect(job).toMatchObject({ state: 'failed', errorCode: 'interrupted', error: INTERRUPTED });
      expect(await store.overlay('volume', id)).toEqual({
        backupStatus: expect.stringMatching(new RegExp(`^Export failed at [\\d: .-]+\\. Reason: ${INTERRUPTED}$`)),
        status: null, progress: null,
      });
      expect(await readdir(h.exportDir)).toEqual(['temp']);
      expect(await readdir(join(h.exportDir, 'temp'))).toEqual([]);
    } finally {
      await close();
    }
  });

  it('import: job failed "interrupted", volume left in error', async () => {
    h = await harness();
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, 256 * MiB, [[0, 256 * MiB]]);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 256 / 1024 });
    expect(exp.error).toBeNull();
    await h.engine.shutdown(0);
    const configPath = join(h.dir, 'config.json');
    await writeFile(configPath, JSON.stringify({ ...h.config, engine: { ...h.config.engine, bandwidthBytesPerSec: 16 * MiB } }));
    const jobId = await killMidway(configPath, ['volume-import', id, exp.fileName!]);

    const { store, close } = await restart(h);
    try {
      expect(await store.getJob(jobId)).toMatchObject({ state: 'failed', error: INTERRUPTED });
      expect(await store.overlay('volume', id)).toEqual({
        backupStatus: expect.stringMatching(new RegExp(`^Import failed at [\\d: .-]+\\. Reason: ${INTERRUPTED}$`)),
        status: 'error', progress: null,
      });
      // the archive itself is untouched and still matches its checksum
      const recorded = (await readFile(join(h.exportDir, `${exp.fileName}.sha256`), 'utf8')).split(' ')[0];
      expect(await sha256File(join(h.exportDir, exp.fileName!))).toBe(recorded);
    } finally {
      await close();
    }
  });
});
