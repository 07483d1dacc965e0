import { spawn } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import { holdProcessLock, StateInUseError } from '../../src/state/process-lock.js';
import { repoRoot, startProxyChild, stopProxyChild } from '../e2e/proxy-process.js';
import { childWorld, exportRunning, tempFiles, volumeThrough } from '../helpers/proxy-child.js';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';

/** Run the real entry point to its end; its exit code and everything it printed. */
function runToExit(configPath: string): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--config', configPath], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

describe('one process per embedded state', () => {
  it('a second proxy on the same dataDir refuses to start, naming the state file and the holder; the first goes on', async () => {
    const world = await childWorld();
    onTestFinished(() => world.close());
    const a = await world.config();
    const first = await startProxyChild(a.path, a.port, join(world.dir, 'first.log'));
    onTestFinished(() => stopProxyChild(first, 'SIGKILL'));
    const temp = await exportRunning(first.url, world.exportDir);

    const second = await runToExit((await world.config()).path);
    expect(second.code).not.toBe(0);
    expect(second.output).toContain(`state file ${world.statePath} is in use by process ${first.child.pid}`);

    // the first one's job is untouched: still exporting, its temp file still there and growing
    expect(await tempFiles(world.exportDir)).toEqual([temp]);
    expect(await volumeThrough(first.url)).toMatchObject({ status: 'exporting', 'wrs-volume:backup_status': expect.stringMatching(/^Export started at /) });

    // kill -9: the OS drops the lock, so a restart works (and fails the dead one's job as interrupted)
    first.child.kill('SIGKILL');
    await first.exited;
    const c = await world.config();
    const third = await startProxyChild(c.path, c.port, join(world.dir, 'third.log'));
    onTestFinished(() => stopProxyChild(third, 'SIGKILL'));
    expect(await volumeThrough(third.url)).toMatchObject({ 'wrs-volume:backup_status': expect.stringMatching(/Reason: interrupted$/) });
    expect(await tempFiles(world.exportDir)).toEqual([]);
  });

  it('holdProcessLock: refuses while held (in this process too), works again once released', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stx-lock-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const state = join(dir, 'state.sqlite');
    const lock = holdProcessLock(state);
    expect(() => holdProcessLock(state)).toThrow(StateInUseError);
    expect(() => holdProcessLock(state)).toThrow(`state file ${state} is in use by process ${process.pid}`);
    // the state itself stays readable by others (an operator's CLI, a test)
    const reader = new SqliteStateStore(state);
    expect(await reader.listUnfinished()).toEqual([]);
    reader.close();
    lock.release();
    holdProcessLock(state).release();
  });
});
