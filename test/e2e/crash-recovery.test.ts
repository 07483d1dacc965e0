// kill -9 the proxy while it exports a large sparse volume (bandwidth-limited so it is still running),
// start it again: no partial archive anywhere a reader looks, and the volume is `available` again.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { E, P, archivesOf, call, cinder, show, waitCinderStatus, waitFor, writeAt, volumeFile } from './helpers.js';
import { freePort, startProxyChild, stopProxyChild, writeProxyConfig, type ProxyChild } from './proxy-process.js';

const work = mkdtempSync(join(E.workDir, 'crash-'));
const exportDir = join(work, 'export');
mkdirSync(exportDir);
let child: ProxyChild | undefined;
let volumeId = '';

afterAll(async () => {
  if (child) await stopProxyChild(child, 'SIGKILL');
  if (volumeId) await cinder('DELETE', `/v3/${P}/volumes/${volumeId}`).catch(() => undefined);
  rmSync(work, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p)); else out.push(p);
  }
  return out;
}

describe('kill -9 during an export', () => {
  it('leaves no partial archive; after a restart the volume is available and the export failed', async () => {
    const port = await freePort();
    const config = join(work, 'proxy.yaml');
    writeProxyConfig(config, {
      port, upstream: E.cinderUrl, dataDir: join(work, 'data'), exportDir,
      volumePath: `${E.mntBase}/*/volume-{id}`,
      engine: { bandwidthBytesPerSec: 4 * 1024 * 1024 },
    });
    const log = join(work, 'proxy.log');
    child = await startProxyChild(config, port, log);

    const c = await cinder('POST', `/v3/${P}/volumes`, { body: { volume: { size: 4, name: 'e2e-crash' } } });
    expect(c.status, show(c)).toBe(202);
    volumeId = c.json.volume.id;
    await waitCinderStatus('volumes', volumeId, ['available']);
    await writeAt(volumeFile(volumeId), 0, Buffer.alloc(1 << 20, 0x61));

    const a = await call(child.url, 'POST', `/v3/${P}/volumes/${volumeId}/action`, { body: { 'wrs-volume:os-volume_export': null } });
    expect(a.status, show(a)).toBe(202);
    // running: the volume shows `exporting` and work has started in <exportDir>/temp
    await waitFor('export running', async () => {
      const v = (await call(child!.url, 'GET', `/v3/${P}/volumes/${volumeId}`)).json?.volume;
      return v?.status === 'exporting' && /^Export started at /.test(v['wrs-volume:backup_status'] ?? '') ? true : undefined;
    }, 60_000);
    await waitFor('a work file in temp/', async () => (filesUnder(exportDir).length > 0 ? true : undefined), 60_000);
    await new Promise((r) => setTimeout(r, 1500));

    child.child.kill('SIGKILL');
    await child.exited;
    expect(await archivesOf(exportDir, volumeId), 'no final archive after the kill').toEqual([]);

    child = await startProxyChild(config, port, log);
    const v = await waitFor('the volume back to available', async () => {
      const x = (await call(child!.url, 'GET', `/v3/${P}/volumes/detail`)).json?.volumes?.find((y: any) => y.id === volumeId);
      return x && x.status === 'available' ? x : undefined;
    }, 60_000);
    expect(v['wrs-volume:backup_status']).toMatch(/^Export failed at .* Reason: /);
    // the restarted proxy cleaned its work files and did not resume the export behind our back
    await new Promise((r) => setTimeout(r, 2000));
    expect(filesUnder(exportDir)).toEqual([]);
    const again = await call(child.url, 'GET', `/v3/${P}/volumes/${volumeId}`);
    expect(again.json.volume.status).toBe('available');
    // Cinder itself never saw another status
    expect((await cinder('GET', `/v3/${P}/volumes/${volumeId}`)).json.volume.status).toBe('available');
  });
});
