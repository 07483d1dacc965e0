import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { Logger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/main.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { FakeCinder, PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { request } from '../helpers/http.js';
import { captureLogger } from '../helpers/servers.js';
import { testDir } from '../helpers/temp-dir.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir: string;
let fake: FakeCinder;
beforeEach(async () => {
  dir = await testDir('stx-main-');
  fake = await new FakeCinder().start();
});

const capture = () => captureLogger('info');

/** startProxy, closed when the test finishes (close is idempotent). */
async function start(config: Config, logger: Logger): Promise<RunningProxy> {
  const proxy = await startProxy(config, logger);
  onTestFinished(() => proxy.close());
  return proxy;
}

const configFor = (extra: Record<string, unknown> = {}) => parseConfig({
  listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, dataDir: join(dir, 'data'), exportDir: join(dir, 'exports'), ...extra,
});

describe('startProxy', () => {
  it('starts a whole proxy in-process: state, export temp dir, forwarding, local answers', async () => {
    const { logger } = capture();
    const proxy = await start(configFor(), logger);
    expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
    expect(existsSync(join(dir, 'data', 'state.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'exports', 'temp'))).toBe(true);
    expect((await request(`${proxy.url}/healthz`)).status).toBe(200);
    expect((await request(`${proxy.url}/v2/${PROJECT}/extensions/wrs-volume`)).json().extension.alias).toBe('wrs-volume');
    const vol = await request(`${proxy.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } });
    expect(vol.json().volume).toHaveProperty('wrs-volume:backup_status', null);
    await proxy.close();
    await expect(request(`${proxy.url}/healthz`)).rejects.toThrow();
  });

  it('fails the jobs this replica was running before it restarted, before it listens', async () => {
    const config = configFor({ state: { replicaId: 'replica-a' } });
    const old = new SqliteStateStore(join(dir, 'data', 'state.sqlite'));
    const job = (await old.createJob({ kind: 'volume-export', resourceType: 'volume', resourceId: VOLUME_ID, projectId: PROJECT,
      backend: 'nfs', params: { volumeId: VOLUME_ID, sizeGiB: 1, host: null }, bytesTotal: 1 }))!;
    await old.claimNext({ owner: 'replica-a', backends: ['nfs'], leaseMs: 60_000 });
    await old.close();
    const { logger } = capture();
    await start(config, logger);
    const after = new SqliteStateStore(join(dir, 'data', 'state.sqlite'));
    expect(await after.getJob(job.id)).toMatchObject({
      state: 'failed', errorCode: 'interrupted', error: 'interrupted: replica replica-a stopped renewing its lease',
    });
    await after.close();
  });

  it('keeps serving with a warning when the export directory cannot be created', async () => {
    await writeFile(join(dir, 'file'), 'x');
    const { logger, lines } = capture();
    const proxy = await start(configFor({ exportDir: join(dir, 'file', 'exports') }), logger);
    expect(lines.some((l) => l.level === 40 && l.msg === 'export directory is not usable')).toBe(true);
    expect((await request(`${proxy.url}/healthz`)).status).toBe(200);
  });
});

function runCli(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('the CLI', () => {
  it('exits 1 with a message naming the bad key', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(path, 'upstream:\n  timeoutMs: soon\n');
    const run = runCli(['--config', path]);
    expect(await run.exited).toBe(1);
    expect(run.err()).toContain('upstream.timeoutMs');
  });

  it('takes the config from STX_PROXY_CONFIG, env overrides, and exits 0 on SIGTERM', async () => {
    const path = join(dir, 'ok.yaml');
    await writeFile(path, `listen:\n  host: 127.0.0.1\n  port: 1\nupstream:\n  url: ${fake.url}\n`);
    const run = runCli([], { STX_PROXY_CONFIG: path, STX_PROXY_PORT: '0', STX_PROXY_DATA_DIR: join(dir, 'd'),
      STX_PROXY_EXPORT_DIR: join(dir, 'e'), STX_PROXY_LOG_LEVEL: 'info' });
    const listening = await new Promise<Record<string, any>>((done, fail) => {
      run.child.stdout.on('data', () => {
        const line = run.out().split('\n').find((l) => l.includes('"listening"'));
        if (line) done(JSON.parse(line));
      });
      run.exited.then((code) => fail(new Error(`exited ${code}: ${run.err()}`)));
    });
    expect(listening.port).toBeGreaterThan(1);
    expect((await request(`http://127.0.0.1:${listening.port}/healthz`)).status).toBe(200);
    expect(existsSync(join(dir, 'd', 'state.sqlite'))).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
