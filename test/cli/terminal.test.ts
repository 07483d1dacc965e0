// What an operator sees on a terminal (a real pseudo-terminal: a tmux pane, its screen read back) and
// what a pipe gets: `jobs --watch` draws a progress bar that moves, in place, on a terminal and writes
// plain lines (no escape sequences) to a pipe; the proxy's logs are pino-pretty lines on a terminal and
// JSON lines on a pipe. The proxy is the real launcher (bin/stx-cinder-proxy) in front of the fake Cinder.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, runCli } from '../helpers/cli.js';
import { MiB } from '../export/helpers.js';
import { VOLUME_ID } from '../helpers/fake-cinder.js';
import { childWorld, exportRunning, waitFor } from '../helpers/proxy-child.js';
import { inTerminal, type Terminal } from '../helpers/terminal.js';

/** The test runner's environment without what tells the proxy it runs under a test or in CI (JSON logs then). */
function operatorEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('VITEST') || k === 'CI' || k === 'NODE_ENV') delete env[k];
  return env;
}

// ESC: any ANSI/VT sequence (colour, cursor moves, line clears) starts with it
const ESC = '\u001b';
/** A cli-progress bar of `jobs --watch` (shades_classic: 40 cells of █ and ░), with its percentage. */
const BAR = new RegExp(`^\\S{8} volume-export (\\S+) +\\|[\u2588\u2591]{40}\\| +(\\d+)% .* volume ${VOLUME_ID}$`);

function bars(screen: string[]): { state: string; percent: number }[] {
  return screen.flatMap((l) => { const m = BAR.exec(l); return m ? [{ state: m[1]!, percent: Number(m[2]) }] : []; });
}

/** Wait until the pane's command has exited; its status. */
const exited = (t: Terminal) => waitFor('the command on the terminal to exit', () => t.exitStatus(), 30_000);

/** bin/stx-cinder-proxy with its stdout and stderr on pipes, read whole; `closed` gives its exit code once it has ended. */
function piped(args: string[], env: NodeJS.ProcessEnv): { out: () => string; err: () => string; closed: Promise<number | null>; kill(): void } {
  const child = spawn(CLI, args, { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const closed = new Promise<number | null>((done) => child.on('close', done));
  onTestFinished(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await closed; } });
  return { out: () => out, err: () => err, closed, kill: () => child.kill('SIGTERM') };
}

describe('on a terminal and on a pipe', () => {
  it('a proxy on a terminal logs pino-pretty lines; jobs --watch there draws a bar that moves, on a pipe plain lines', async () => {
    const world = await childWorld({}, 16 * MiB);
    onTestFinished(() => world.close());
    const { path, url } = await world.config();
    const env = operatorEnv();
    const proxy = await inTerminal([CLI, '--config', path], { dir: world.dir, cwd: world.dir, env });
    await proxy.waitScreen('the proxy to say it listens', (s) => (s.some((l) => / INFO.*: listening$/.test(l)) ? true : undefined));
    await exportRunning(url, world.exportDir);

    const socket = join(world.dataDir, 'admin.sock');
    const watch = await inTerminal([CLI, 'jobs', '--watch', '--socket', socket], { dir: world.dir, cwd: '/', env });
    const plain = piped(['jobs', '--watch', '--socket', socket], env);
    const first = await watch.waitScreen('a progress bar', (s) => bars(s)[0]);
    expect(first.state).toBe('running');
    const later = await watch.waitScreen(`the bar past ${first.percent}%`, (s) => {
      const shown = bars(s);
      // redrawn in place: one bar for the one job, however many times it was drawn
      expect(shown).toHaveLength(1);
      return shown[0]!.percent > first.percent ? shown[0] : undefined;
    });
    expect(later.state).toBe('running');

    // the job ends (cancelled): both watches end by themselves, the bar showing how it ended
    const jobId = JSON.parse((await runCli(['jobs', '-f', 'json', '--socket', socket])).stdout)[0].id;
    const cancel = await runCli(['cancel', jobId, '--socket', socket]);
    expect(cancel.code, cancel.stdout + cancel.stderr).toBe(0);
    expect(await exited(watch)).toBe(0);
    const last = await watch.screen();
    expect(bars(last), last.join('\n')).toEqual([{ state: 'failed', percent: expect.any(Number) }]);
    expect(await plain.closed, plain.err()).toBe(0);
    const text = plain.out();
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\r');
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).toMatch(new RegExp(`^\\S+Z ${jobId} volume-export volume ${VOLUME_ID} (running|failed) \\d+\\.\\d% `));
    expect(lines.at(-1)).toMatch(/ failed .*error="cancelled by operator"$/);

    // the proxy's lines: `[HH:MM:ss.mmm] LEVEL: message`, fields below, indented; no JSON
    await proxy.keys('C-c');
    expect(await exited(proxy)).toBe(0);
    // (less the terminal's echo of the Ctrl-C, and tmux's own line about the ended command)
    const screen = (await proxy.screen()).map((l) => l.replace(/^\^C/, '')).filter((l) => l !== '' && !l.startsWith('Pane is dead'));
    const head = /^\[\d\d:\d\d:\d\d\.\d{3}\] (INFO|WARN|ERROR): /;
    for (const msg of ['listening', 'job started', 'job cancel requested', 'job failed', 'shutting down', 'stopped']) {
      expect(screen.some((l) => head.test(l) && l.endsWith(`: ${msg}`)), `a pretty "${msg}" line in:\n${screen.join('\n')}`).toBe(true);
    }
    expect(screen.filter((l) => !head.test(l) && !l.startsWith('    ')), 'lines neither a record\'s head nor its fields').toEqual([]);
  });

  it('a proxy whose stdout is a pipe logs JSON lines, no escape sequences', async () => {
    const world = await childWorld();
    onTestFinished(() => world.close());
    const { path } = await world.config();
    const proxy = piped(['--config', path], operatorEnv());
    await waitFor('the proxy to say it listens', () => (proxy.out().includes('"msg":"listening"') ? true : undefined));
    proxy.kill();
    expect(await proxy.closed, proxy.err()).toBe(0);
    const text = proxy.out();
    expect(text).not.toContain(ESC);
    const records = text.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.msg)).toEqual(expect.arrayContaining(['listening', 'shutting down', 'stopped']));
    for (const r of records) expect(r).toMatchObject({ level: expect.any(Number), time: expect.stringMatching(/Z$/), service: 'stx-cinder-proxy' });
  });
});
