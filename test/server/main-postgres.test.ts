import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startProxy } from '../../src/main.js';
import { FakeCinder, PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { createTestDatabase, startGate, urlFor } from '../helpers/postgres.js';
import { captureLogger } from '../helpers/servers.js';

const dropped: Array<() => Promise<void>> = [];
// in parallel, with time to spare: DROP DATABASE is slow on a loaded machine
afterAll(() => Promise.all(dropped.splice(0).map((drop) => drop())), 300_000);

/** Two proxies on one PostgreSQL database (through a gate the test can cut), one export directory. */
async function twoReplicas() {
  const db = await createTestDatabase();
  dropped.push(db.drop);
  const gate = await startGate();
  onTestFinished(() => gate.close());
  const dir = await mkdtemp(join(tmpdir(), 'stx-main-pg-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const fake = await new FakeCinder().start();
  onTestFinished(() => fake.close());
  const start = async (replicaId: string) => {
    const config = parseConfig({
      listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url }, dataDir: join(dir, replicaId), exportDir: join(dir, 'exports'),
      state: { url: urlFor(db.name, gate.port), replicaId, poolSize: 3 },
      // an export whose data never comes: the job stays running until the proxy stops
      backends: [{ name: 'slow', type: 'command', exportCommand: ['sleep', '3599'], importCommand: ['false'] }],
      engine: { shutdownTimeoutMs: 0, minFreeBytes: 0 },
    });
    const proxy = await startProxy(config, captureLogger('warn').logger);
    onTestFinished(() => proxy.close());
    return proxy;
  };
  return { gate, fake, a: await start('replica-a'), b: await start('replica-b') };
}

const exportVolume = (url: string) => request(`${url}/v3/${PROJECT}/volumes/${VOLUME_ID}/action`, {
  method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify({ 'wrs-volume:os-volume_export': null }),
});
const show = async (url: string) => (await request(`${url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } }));

describe('startProxy with state.url', () => {
  it('one truth for two replicas: a job recorded through A holds the volume through B at once', async () => {
    const { a, b } = await twoReplicas();
    expect((await exportVolume(a.url)).status).toBe(202);
    const seen = (await show(b.url)).json().volume;
    expect(seen).toMatchObject({ status: 'exporting', 'wrs-volume:backup_status': expect.stringMatching(/^Export started at /) });
    const refused = await request(`${b.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { method: 'DELETE', headers: { 'x-auth-token': TOKEN } });
    expect(refused.status).toBe(400);
    expect(refused.json().badRequest.message).toMatch(/^Invalid volume: Volume status must be available/);
    const second = await exportVolume(b.url);
    expect(second.json()).toEqual({ badRequest: { code: 400, message: 'Invalid volume: Volume status must be available.' } });
  });

  it('PostgreSQL out of reach: forwarding goes on, state calls and /readyz say 503, and it comes back by itself', async () => {
    const { gate, a } = await twoReplicas();
    expect((await request(`${a.url}/readyz`)).json()).toEqual({ status: 'ready', upstream: 'ok', state: 'ok' });
    gate.down();
    const ready = await request(`${a.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'not ready', upstream: 'ok', state: expect.stringMatching(/^down: /) });
    expect((await request(`${a.url}/v3/${PROJECT}/volumes`, { headers: { 'x-auth-token': TOKEN } })).status).toBe(200);
    const action = await exportVolume(a.url);
    expect(action.status).toBe(503);
    expect(action.json().serviceUnavailable.message).toMatch(/^The state store is unavailable: /);
    expect((await show(a.url)).status).toBe(503);
    gate.up();
    expect((await request(`${a.url}/readyz`)).status).toBe(200);
    expect((await show(a.url)).json().volume['wrs-volume:backup_status']).toBeNull();
  });
});
