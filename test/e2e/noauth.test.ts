// The noauth style (X-Auth-Token "user:<project id>", what scripts/demo uses by default), with the
// proxy started in-process through startProxy() in front of the noauth cinder-api of the same Cinder.
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/main.js';
import { E, P, TS, archivesOf, call, cleanup, createVolume, run, show, waitBackupStatus } from './helpers.js';

const tok = `admin:${P}`;
let running: RunningProxy | undefined;
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(join(E.workDir, 'noauth-'));
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { url: E.noauthUrl },
    dataDir: join(dir, 'data'),
    exportDir: join(dir, 'export'),
    engine: { minFreeBytes: 0 },
    backends: [{ name: 'nfs', type: 'file', volumePath: `${E.mntBase}/*/volume-{id}` }],
  });
  running = await startProxy(config, silentLogger());
});

afterAll(async () => {
  await running?.close();
  await cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('noauth cinder-api behind an in-process proxy', () => {
  it('export through the proxy; cinder CLI (noauth) lists and shows it with backup_status', async () => {
    const vol = await createVolume('e2e-noauth');
    const url = running!.url;
    const a = await call(url, 'POST', `/v3/${P}/volumes/${vol.id}/action`, { token: tok, body: { 'wrs-volume:os-volume_export': null } });
    expect(a.status, show(a)).toBe(202);
    await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { base: url, token: tok });
    expect(await archivesOf(join(dir, 'export'), vol.id)).toHaveLength(1);

    const cli = ['--os-auth-type', 'noauth', '--os-user-id', 'admin', '--os-project-id', P, '--os-endpoint', `${url}/v3`];
    const env = { PATH: '/usr/bin:/bin', HOME: E.workDir };
    const l = await run('/usr/bin/cinder', [...cli, 'list'], { env });
    expect(l.code, l.stderr).toBe(0);
    expect(l.stdout).toContain(vol.id);
    const s = await run('/usr/bin/cinder', [...cli, 'show', vol.id], { env });
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toMatch(/wrs-volume:backup_status\s*\|\s*Export completed at/);
  });
});
