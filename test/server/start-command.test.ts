import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { repoRoot } from '../e2e/proxy-process.js';
import { VOLUME_ID } from '../helpers/fake-cinder.js';
import { request } from '../helpers/http.js';
import { alive, childWorld, exportRunning, tempFiles, waitFor } from '../helpers/proxy-child.js';

/** The proxy's own pid, from the pid file its state lock writes, once it answers. */
async function proxyPid(url: string, statePath: string): Promise<number> {
  await waitFor('the proxy to answer', () => request(`${url}/healthz`).then((r) => (r.status === 200 ? true : undefined), () => undefined));
  return Number(readFileSync(`${statePath}.pid`, 'utf8'));
}

describe('npm start waits for the drain', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('%s to its process group during an export: it returns only after the proxy has exited and recorded the job', async (signal) => {
    const world = await childWorld({ shutdownTimeoutMs: 1000 });
    onTestFinished(() => world.close());
    const { path, url } = await world.config();
    // its own process group, as a supervisor or a terminal would start it
    const npm = spawn('npm', ['start', '--', '--config', path], { cwd: repoRoot, detached: true, stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    onTestFinished(() => { try { process.kill(-npm.pid!, 'SIGKILL'); } catch { /* already gone */ } });
    const pid = await proxyPid(url, world.statePath);
    expect(pid).not.toBe(npm.pid);
    await exportRunning(url, world.exportDir);

    process.kill(-npm.pid!, signal);
    const code = await exited;
    expect(alive(pid)).toBe(false);
    expect(() => process.kill(-npm.pid!, 0)).toThrow(/ESRCH/); // nothing of the group is left
    expect(code).toBe(0);

    // the drain ran to its end: the job was failed cleanly (shutdownTimeoutMs < the export), temp file gone
    expect(await tempFiles(world.exportDir)).toEqual([]);
    const store = new SqliteStateStore(world.statePath);
    onTestFinished(() => store.close());
    expect(await store.listJobs({ unfinishedOnly: true })).toEqual([]);
    expect((await store.overlay('volume', VOLUME_ID)).backupStatus).toMatch(/^Export failed at .*Reason: interrupted: replica .* shut down before the job finished$/);
  });
});
