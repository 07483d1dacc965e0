// A proxy run as its own process (the real entry point) in front of a FakeCinder, with a file
// backend whose export runs long (bandwidth-limited), to see what processes and signals do to a job.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, writeProxyConfig } from '../e2e/proxy-process.js';
import { makeVolumeFile, MiB } from '../export/helpers.js';
import { FakeCinder, PROJECT, TOKEN, VOLUME_ID } from './fake-cinder.js';
import { jsonHeaders, request } from './http.js';
import { waitFor } from './wait.js';

export interface ChildWorld {
  dir: string;
  fake: FakeCinder;
  dataDir: string;
  exportDir: string;
  statePath: string;
  /** A config file for a proxy on a free port, sharing this world's dataDir and exportDir. */
  config(): Promise<{ path: string; port: number; url: string }>;
  close(): Promise<void>;
}

/** The fake upstream and a 1 GiB (sparse) volume that exports at `bytesPerSec`. */
export async function childWorld(engine: Record<string, unknown> = {}, bytesPerSec = 8 * MiB): Promise<ChildWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'stx-child-'));
  const fake = await new FakeCinder().start();
  const dataDir = join(dir, 'data');
  const exportDir = join(dir, 'exports');
  const volDir = join(dir, 'vols');
  await mkdir(volDir);
  await makeVolumeFile(join(volDir, `volume-${VOLUME_ID}`), 1024 * MiB);
  let n = 0;
  return {
    dir, fake, dataDir, exportDir, statePath: join(dataDir, 'state.sqlite'),
    async config() {
      const port = await freePort();
      const path = join(dir, `config-${++n}.yaml`);
      writeProxyConfig(path, { port, upstream: fake.url, dataDir, exportDir, volumePath: `${volDir}/volume-{id}`,
        engine: { bandwidthBytesPerSec: bytesPerSec, ...engine } });
      return { path, port, url: `http://127.0.0.1:${port}` };
    },
    async close() {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export { waitFor } from './wait.js';

/** Ask the proxy to export the fixture volume; resolves once the archive's temp file exists. */
export async function exportRunning(url: string, exportDir: string): Promise<string> {
  const res = await request(`${url}/v3/${PROJECT}/volumes/${VOLUME_ID}/action`, {
    method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify({ 'wrs-volume:os-volume_export': null }),
  });
  if (res.status !== 202) throw new Error(`export answered ${res.status}: ${res.body.toString()}`);
  return waitFor('the export temp file', async () => (await tempFiles(exportDir))[0]);
}

export async function tempFiles(exportDir: string): Promise<string[]> {
  return (await readdir(join(exportDir, 'temp')).catch(() => [] as string[])).filter((n) => n.endsWith('.part'));
}

/** The volume as the proxy shows it (status overlay, backup_status). */
export async function volumeThrough(url: string): Promise<Record<string, any>> {
  return (await request(`${url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } })).json().volume;
}

/** Is there a process of that pid (a zombie counts: it is gone only once reaped)? */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
