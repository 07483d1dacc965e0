// The admin endpoint and the real CLI against a whole proxy (in-process, fake Cinder, file backend).
import { tempTag } from '../../src/export/archive/atomic.js';
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { writeArchive } from '../../src/export/archive/writer.js';
import { makeCompressor } from '../../src/export/archive/compressors.js';
import { silentLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/main.js';
import { archiveStamp } from '../../src/state/timestamps.js';
import { CLI, runCli } from '../helpers/cli.js';
import { FakeCinder, PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { makeVolumeFile, meta, MiB, sh } from '../export/helpers.js';
import { testDir } from '../helpers/temp-dir.js';

let dir: string;
let fake: FakeCinder;
beforeEach(async () => {
  dir = await testDir('stx-admin-');
  await mkdir(join(dir, 'exports'));
  await mkdir(join(dir, 'vols'));
  fake = await new FakeCinder().start();
});

async function start(extra: Record<string, unknown> = {}): Promise<RunningProxy> {
  const config = parseConfig({
    listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, dataDir: join(dir, 'data'), exportDir: join(dir, 'exports'),
    backends: [{ name: 'files', type: 'file', volumePath: `${join(dir, 'vols')}/volume-{id}` }], defaultBackend: 'files',
    engine: { minFreeBytes: 0, bandwidthBytesPerSec: 16 * MiB }, ...extra,
  });
  const proxy = await startProxy(config, silentLogger());
  onTestFinished(() => proxy.close());
  return proxy;
}

const volumeUrl = (p: RunningProxy) => `${p.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`;
const action = (p: RunningProxy, body: unknown) =>
  request(`${volumeUrl(p)}/action`, { method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify(body) });
const showVolume = async (p: RunningProxy) => (await request(volumeUrl(p), { headers: { 'x-auth-token': TOKEN } })).json().volume;

async function jobsJson(p: RunningProxy, all = false): Promise<any[]> {
  const r = await runCli(['jobs', '-f', 'json', '--socket', p.admin.socketPath, ...(all ? ['--all'] : [])]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Wait (on the store's own state, no sleeps) until a job's bytes moved past `bytes`. */
async function movedPast(p: RunningProxy, bytes: number): Promise<any> {
  for (;;) {
    const [job] = await jobsJson(p);
    if (job?.state === 'running' && job.bytesDone > bytes) return job;
  }
}

describe('the admin endpoint', () => {
  it('is a unix socket only its owner may use (0600), replaced at start, removed at stop', async () => {
    // a socket a crashed proxy left behind (bound, never unlinked)
    await mkdir(join(dir, 'data'), { recursive: true });
    sh('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(dir, 'data', 'admin.sock')]);
    expect(statSync(join(dir, 'data', 'admin.sock')).isSocket()).toBe(true);
    const proxy = await start();
    expect(proxy.admin.socketPath).toBe(join(dir, 'data', 'admin.sock'));
    const st = statSync(proxy.admin.socketPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.mode & 0o002, 'not world-writable').toBe(0);
    expect(st.uid).toBe(process.getuid!());
    const r = await runCli(['jobs', '--socket', proxy.admin.socketPath]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('no jobs\n');
    await proxy.close();
    expect(existsSync(join(dir, 'data', 'admin.sock'))).toBe(false);
    const down = await runCli(['jobs', '--socket', proxy.admin.socketPath]);
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('the proxy is not running');
  });

  it('is not reachable through the public port: its paths there are forwarded to Cinder like any other', async () => {
    const proxy = await start({ admin: { listen: '127.0.0.1:0' } });
    const id = '6f1c7a8e-1d2b-4c3a-9e8f-7a6b5c4d3e2f';
    for (const [method, path] of [['GET', '/v1/jobs'], ['GET', '/v1/jobs?all=1'], ['POST', '/v1/prune'], ['GET', `/v1/jobs/${id}`],
      ['POST', `/v1/jobs/${id}/cancel`]] as const) {
      fake.requests.length = 0;
      const a = await request(`${proxy.url}${path}`, { method, headers: { 'x-auth-token': TOKEN } });
      expect(fake.requests.map((r) => `${r.method} ${r.url}`), path).toEqual([`${method} ${path}`]);
      expect(a.status, path).toBe(202); // the fake Cinder's answer, not the admin's
      expect(a.body.toString(), path).toBe('');
    }
    // the same paths on the admin TCP address are the admin's
    expect(proxy.admin.tcpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(proxy.admin.tcpUrl).not.toBe(proxy.url);
    const admin = await request(`${proxy.admin.tcpUrl}/v1/jobs`);
    expect(admin.json()).toEqual({ jobs: [] });
    const viaTcp = await runCli(['jobs', '--url', proxy.admin.tcpUrl!, '-f', 'json']);
    expect(JSON.parse(viaTcp.stdout)).toEqual([]);
    expect((await request(`${proxy.admin.tcpUrl}/v1/jobs/${id}`)).status).toBe(404);
    expect((await request(`${proxy.admin.tcpUrl}/v1/nothing`)).json()).toEqual({ itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  });
});

describe('jobs and cancel (the real CLI)', () => {
  it('shows a running export whose progress rises, watches it, and cancel leaves no file and the volume as it was', async () => {
    await makeVolumeFile(join(dir, 'vols', `volume-${VOLUME_ID}`), 1024 * MiB, [[0, MiB]]);
    const proxy = await start();
    const config = join(dir, 'proxy.yaml');
    await writeFile(config, `dataDir: ${join(dir, 'data')}\n`);
    expect((await action(proxy, { 'wrs-volume:os-volume_export': null })).status).toBe(202);

    const first = await movedPast(proxy, 0);
    expect(first).toMatchObject({ kind: 'volume-export', state: 'running', volumeId: VOLUME_ID, bytesTotal: 1024 * MiB, owner: null });
    const second = await movedPast(proxy, first.bytesDone);
    expect(second.percent).toBeGreaterThan(first.percent);
    expect(second.bytesPerSec).toBeGreaterThan(0);
    expect(second.etaSeconds).toBeGreaterThan(0);
    const table = await runCli(['jobs', '--config', config]);
    expect(table.stdout).toMatch(new RegExp(`^ID +KIND +RESOURCE +STATE +PROGRESS +MB/S +ETA +STARTED\\n${second.id} +volume-export +volume ${VOLUME_ID} +running +\\d+\\.\\d% +\\d+\\.\\d +\\d+(s|m\\d\\ds)`));

    // --watch, not on a terminal: plain lines, until no job is left
    const watch = spawn(CLI, ['jobs', '--watch', '--socket', proxy.admin.socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => { watch.kill(); });
    let watched = '';
    watch.stdout.on('data', (c: Buffer) => { watched += c.toString(); });
    const watchEnded = new Promise<number | null>((done) => watch.on('close', done));
    await new Promise<void>((done) => watch.stdout.once('data', () => done()));

    const cancel = await runCli(['cancel', second.id, '--socket', proxy.admin.socketPath]);
    expect(cancel.code, cancel.stderr + cancel.stdout).toBe(0);
    expect(cancel.stdout).toBe(`job ${second.id} cancelled: cancelled by operator\n`);
    expect(await watchEnded).toBe(0);
    const lines = watched.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^\\S+ ${second.id} volume-export volume ${VOLUME_ID} running \\d+\\.\\d% `));
    expect(lines.at(-1)).toMatch(/ failed .*error="cancelled by operator"$/);

    expect(await readdir(join(dir, 'exports'))).toEqual(['temp']);
    expect(await readdir(join(dir, 'exports', 'temp'))).toEqual([]);
    const v = await showVolume(proxy);
    expect(v.status).toBe('available');
    expect(v['wrs-volume:backup_status']).toMatch(/^Export failed at \S+ \S+\. Reason: cancelled by operator$/);
    const again = await runCli(['cancel', second.id, '--socket', proxy.admin.socketPath]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain('has already finished (failed)');
  });

  it('cancel of a running import leaves the volume `error` with the failed import\'s backup_status', async () => {
    await makeVolumeFile(join(dir, 'vols', `volume-${VOLUME_ID}`), 1024 * MiB);
    const name = `volume-${VOLUME_ID}-20261201-000000.tgz`;
    await mkdir(join(dir, 'exports', 'temp'));
    const data = (async function* () { for (let i = 0; i < 512; i++) yield Buffer.alloc(MiB, (i % 255) + 1); })();
    await writeArchive({ exportDir: join(dir, 'exports'), name, volumeId: VOLUME_ID, meta: meta(VOLUME_ID), data, size: 512 * MiB,
      compress: makeCompressor(parseConfig({}).engine), signal: new AbortController().signal, tempTag: tempTag('test') });
    // about a minute of work: the CLI starts well within it even on a loaded machine
    const proxy = await start({ engine: { minFreeBytes: 0, bandwidthBytesPerSec: 8 * MiB } });
    expect((await action(proxy, { 'wrs-volume:os-volume_import': { file_name: name } })).status).toBe(202);
    const job = await movedPast(proxy, 0);
    expect(job).toMatchObject({ kind: 'volume-import', fileName: name });
    const cancel = await runCli(['cancel', job.id, '--socket', proxy.admin.socketPath, '-f', 'json']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(JSON.parse(cancel.stdout)).toMatchObject({ id: job.id, state: 'failed', error: 'cancelled by operator' });
    const v = await showVolume(proxy);
    expect(v.status).toBe('error');
    expect(v['wrs-volume:backup_status']).toMatch(/^Import failed at \S+ \S+\. Reason: cancelled by operator$/);
    expect((await readdir(join(dir, 'exports'))).sort()).toEqual(['temp', name, `${name}.sha256`]);
  });
});

describe('prune (the real CLI)', () => {
  it('--dry-run deletes nothing; prune deletes exactly what the policy names, .sha256 included', async () => {
    const proxy = await start({ retention: { keepPerVolume: 1, maxAgeDays: 0 } });
    const hoursAgo = (h: number) => `volume-${VOLUME_ID}-${archiveStamp(new Date(Date.now() - h * 3_600_000))}.tgz`;
    const names = [hoursAgo(1), hoursAgo(2), hoursAgo(3)];
    for (const n of names) { await writeFile(join(dir, 'exports', n), 'x'); await writeFile(join(dir, 'exports', `${n}.sha256`), 'y'); }
    await writeFile(join(dir, 'exports', 'README.txt'), 'not an archive');
    const listing = async () => (await readdir(join(dir, 'exports'))).sort();
    const before = await listing();

    const dry = await runCli(['prune', '--dry-run', '--socket', proxy.admin.socketPath]);
    expect(dry.code, dry.stderr).toBe(0);
    // sorted by name: the oldest first
    expect(dry.stdout).toBe(`would delete ${names[2]} (rule keepPerVolume, volume ${VOLUME_ID})\n` +
      `would delete ${names[1]} (rule keepPerVolume, volume ${VOLUME_ID})\n`);
    expect(await listing()).toEqual(before);

    const real = await runCli(['prune', '--socket', proxy.admin.socketPath, '-f', 'json']);
    expect(real.code, real.stderr).toBe(0);
    expect(JSON.parse(real.stdout).deleted.map((d: any) => d.name).sort()).toEqual([names[1], names[2]].sort());
    expect(await listing()).toEqual(before.filter((n) => !n.startsWith(names[1]!) && !n.startsWith(names[2]!)));
    expect(await listing()).toContain(names[0]);
    const nothing = await runCli(['prune', '--socket', proxy.admin.socketPath]);
    expect(nothing.stdout).toBe('nothing deleted\n');
  });
});
