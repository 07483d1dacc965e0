import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { silentLogger, wantsPrettyLogs } from '../../src/log.js';
import { startProxy } from '../../src/main.js';
import { observeStoreErrors } from '../../src/state/observed-store.js';
import { makeVolumeFile, MiB } from '../export/helpers.js';
import { FakeCinder, PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { testDir } from '../helpers/temp-dir.js';

let dir: string;
let fake: FakeCinder;
beforeEach(async () => {
  dir = await testDir('stx-metrics-');
  await mkdir(join(dir, 'vols'));
  fake = await new FakeCinder().start();
});

function metric(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('/metrics', () => {
  it('counts job durations, volume bytes, failures by reason class, queue depth and upstream latency per route kind', async () => {
    const proxy = await startProxy(parseConfig({
      listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, dataDir: join(dir, 'data'), exportDir: join(dir, 'exports'),
      backends: [{ name: 'files', type: 'file', volumePath: `${join(dir, 'vols')}/volume-{id}` }], defaultBackend: 'files',
      engine: { minFreeBytes: 0 },
    }), silentLogger());
    onTestFinished(() => proxy.close());
    const export1 = () => request(`${proxy.url}/v3/${PROJECT}/volumes/${VOLUME_ID}/action`, {
      method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify({ 'wrs-volume:os-volume_export': null }) });
    const finished = async () => {
      for (;;) {
        const v = (await request(`${proxy.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } })).json().volume;
        if (/(completed|failed) at/.test(v['wrs-volume:backup_status'] ?? '')) return v['wrs-volume:backup_status'] as string;
      }
    };
    // no volume file: the export fails
    expect((await export1()).status).toBe(202);
    expect(await finished()).toMatch(/^Export failed/);
    await makeVolumeFile(join(dir, 'vols', `volume-${VOLUME_ID}`), 1024 * MiB, [[0, MiB]]);
    expect((await export1()).status).toBe(202);
    expect(await finished()).toMatch(/^Export completed/);

    const text = (await request(`${proxy.url}/metrics`)).body.toString();
    expect(metric(text, 'stx_proxy_job_duration_seconds_count{kind="volume-export",outcome="succeeded"}')).toBe(1);
    expect(metric(text, 'stx_proxy_job_duration_seconds_count{kind="volume-export",outcome="failed"}')).toBe(1);
    expect(metric(text, 'stx_proxy_volume_bytes_total{kind="volume-export"}')).toBe(1024 * MiB);
    expect(text).toMatch(/^stx_proxy_job_failures_total\{kind="volume-export",reason="[a-zA-Z-]+"\} 1$/m);
    expect(metric(text, 'stx_proxy_job_queue_depth')).toBe(0);
    expect(metric(text, 'stx_proxy_upstream_latency_seconds_count{route="forward"}')).toBeGreaterThanOrEqual(2);
    expect(metric(text, 'stx_proxy_store_errors_total')).toBeUndefined(); // none yet, and no label set made up
  });
});

describe('observeStoreErrors', () => {
  it('counts failing calls (thrown or rejected) by method and passes every outcome on unchanged', async () => {
    const seen: string[] = [];
    const inner = {
      ok: (x: number) => x + 1,
      boom(): number { throw new Error('disk I/O error'); },
      later: async () => { throw new Error('connection terminated'); },
      fine: async () => 'yes',
    };
    const store = observeStoreErrors(inner, (op) => seen.push(op));
    expect(store.ok(1)).toBe(2);
    expect(() => store.boom()).toThrow('disk I/O error');
    await expect(store.later()).rejects.toThrow('connection terminated');
    expect(await store.fine()).toBe('yes');
    expect(seen).toEqual(['boom', 'later']);
  });

  it('hands out one wrapper per method, which calls what the store holds under that name when called', async () => {
    const seen: string[] = [];
    const inner = { read: async (): Promise<string> => 'first' };
    const store = observeStoreErrors(inner, (op) => seen.push(op));
    const read = store.read;
    expect(store.read).toBe(read);
    store.read = async () => { throw new Error('replaced, and failing'); };
    await expect(read()).rejects.toThrow('replaced, and failing');
    expect(seen).toEqual(['read']);
  });
});

describe('wantsPrettyLogs', () => {
  it('only for a terminal, never in CI or under a test runner', () => {
    expect(wantsPrettyLogs(true, {})).toBe(true);
    expect(wantsPrettyLogs(false, {})).toBe(false);
    expect(wantsPrettyLogs(undefined, {})).toBe(false);
    expect(wantsPrettyLogs(true, { CI: 'true' })).toBe(false);
    expect(wantsPrettyLogs(true, { VITEST: 'true' })).toBe(false);
  });
});
