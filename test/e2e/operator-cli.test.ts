// The operator's CLI (bin/stx-cinder-proxy) against a proxy in front of the real Cinder: `jobs` shows a
// real export's progress rising; `cancel` stops a running export (no file, the volume as it was) and a
// running import (the volume `error`, the failed import's backup_status); `verify` passes the real archive.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { E, P, TS, archivesOf, call, cinder, cleanup, createVolume, show, waitBackupStatus, waitFor, writeAt, volumeFile } from './helpers.js';
import { freePort, startProxyChild, stopProxyChild, writeProxyConfig, type ProxyChild } from './proxy-process.js';

const MiB = 1024 * 1024;
const work = mkdtempSync(join(E.workDir, 'cli-'));
const exportDir = join(work, 'export');
const dataDir = join(work, 'data');
mkdirSync(exportDir);
let child: ProxyChild | undefined;
const socket = join(dataDir, 'admin.sock');

beforeAll(async () => {
  const port = await freePort();
  const config = join(work, 'proxy.yaml');
  writeProxyConfig(config, {
    port, upstream: E.cinderUrl, dataDir, exportDir, volumePath: `${E.mntBase}/*/volume-{id}`,
    // slow enough that a job is still running when the CLI looks, fast enough for the suite
    engine: { bandwidthBytesPerSec: 16 * MiB },
  });
  child = await startProxyChild(config, port, join(work, 'proxy.log'));
});

afterAll(async () => {
  if (child) await stopProxyChild(child);
  await cleanup();
  rmSync(work, { recursive: true, force: true });
});

const act = (id: string, body: unknown) => call(child!.url, 'POST', `/v3/${P}/volumes/${id}/action`, { body });

async function jobs(): Promise<any[]> {
  const r = await runCli(['jobs', '-f', 'json', '--socket', socket]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** The CLI's view of the one running job once its bytes moved past `bytes`. */
function runningPast(bytes: number): Promise<any> {
  return waitFor(`a running job past ${bytes} bytes`, async () => {
    const [job] = await jobs();
    return job?.state === 'running' && job.bytesDone > bytes ? job : undefined;
  }, 60_000);
}

describe('stx-cinder-proxy against the real Cinder', () => {
  let volumeId = '';
  let archive = '';

  it('jobs: a real export\'s progress rises; the archive it leaves passes verify', async () => {
    const vol = await createVolume('e2e-cli', 1);
    volumeId = vol.id;
    await writeAt(volumeFile(volumeId), 0, Buffer.alloc(4 * MiB, 0x42));
    const a = await act(volumeId, { 'wrs-volume:os-volume_export': null });
    expect(a.status, show(a)).toBe(202);
    const first = await runningPast(0);
    expect(first).toMatchObject({ kind: 'volume-export', volumeId, bytesTotal: 1024 * MiB });
    const second = await runningPast(first.bytesDone);
    expect(second.percent).toBeGreaterThan(first.percent);
    expect(second.bytesPerSec).toBeGreaterThan(0);
    const table = await runCli(['jobs', '--socket', socket]);
    expect(table.stdout).toContain(`${second.id}  volume-export  volume ${volumeId}  running`);
    await waitBackupStatus('volume', volumeId, new RegExp(`^Export completed at ${TS}$`), { base: child!.url });
    const [name] = await archivesOf(exportDir, volumeId);
    archive = join(exportDir, name!);
    const v = await runCli(['verify', archive]);
    expect(v.code, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toContain(`volume ${volumeId}, image ${1024 * MiB} bytes, gzip, checksum file matches`);
    const after = await runCli(['jobs', '--socket', socket]);
    expect(after.stdout).toBe('no jobs\n');
  });

  it('cancel of a running export: the job stops, no file is left, the volume is available as before', async () => {
    const before = readdirSync(exportDir).sort();
    const a = await act(volumeId, { 'wrs-volume:os-volume_export': null });
    expect(a.status, show(a)).toBe(202);
    const job = await runningPast(0);
    const began = Date.now();
    const c = await runCli(['cancel', job.id, '--socket', socket]);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(c.stdout).toBe(`job ${job.id} cancelled: cancelled by operator\n`);
    expect(Date.now() - began, 'the CLI included').toBeLessThan(10_000);
    const v = await waitBackupStatus('volume', volumeId, /^Export failed at .* Reason: cancelled by operator$/, { base: child!.url });
    expect(v.status).toBe('available');
    expect(readdirSync(exportDir).sort()).toEqual(before);
    expect(readdirSync(join(exportDir, 'temp'))).toEqual([]);
    expect((await cinder('GET', `/v3/${P}/volumes/${volumeId}`)).json.volume.status).toBe('available');
  });

  it('cancel of a running import: the volume is `error` with `Import failed at ... Reason: cancelled by operator`', async () => {
    const name = archive.slice(exportDir.length + 1);
    const a = await act(volumeId, { 'wrs-volume:os-volume_import': { file_name: name } });
    expect(a.status, show(a)).toBe(202);
    const job = await runningPast(0);
    expect(job).toMatchObject({ kind: 'volume-import', fileName: name });
    const c = await runCli(['cancel', job.id, '--socket', socket, '-f', 'json']);
    expect(c.code, c.stdout + c.stderr).toBe(0);
    expect(JSON.parse(c.stdout)).toMatchObject({ state: 'failed', error: 'cancelled by operator' });
    const v = await waitBackupStatus('volume', volumeId, new RegExp(`^Import failed at ${TS}\\. Reason: cancelled by operator$`), { base: child!.url });
    expect(v.status).toBe('error');
    // the archive stays for another try
    expect(await archivesOf(exportDir, volumeId)).toEqual([name]);
  });
});
