// A real pseudo-terminal for a test: the command runs in a pane of a tmux server of the test's own
// (its own socket, stopped when the test finishes), and the test reads the screen as a person would
// see it (escape sequences applied, not shown). scripts/install-deps.sh installs tmux.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { onTestFinished } from 'vitest';
import { waitFor } from './proxy-child.js';

const exec = promisify(execFile);

export interface Terminal {
  /**
   * The screen now, one string per row, trailing blanks cut, with the rows that scrolled off above it
   * (when the command ends tmux writes `Pane is dead ...` on a new bottom row, scrolling the screen by one).
   */
  screen(): Promise<string[]>;
  /** The command's exit status once it has exited (the pane stays to be read), else undefined. */
  exitStatus(): Promise<number | undefined>;
  /** Type keys, in tmux's names (`C-c`, `Enter`, or text). */
  keys(...keys: string[]): Promise<void>;
  /** Wait until `pick` finds something on the screen; a timeout names `what` and shows the last screen. */
  waitScreen<T>(what: string, pick: (screen: string[]) => T | undefined, timeoutMs?: number): Promise<T>;
}

export interface TerminalOptions {
  /** A directory of the test's own: the tmux socket and configuration go there. */
  dir: string;
  cwd: string;
  /** The command's whole environment. */
  env: NodeJS.ProcessEnv;
  width?: number;
  height?: number;
}

let made = 0;

/** Start `argv` (no shell) on a terminal of `width` x `height`. */
export async function inTerminal(argv: string[], opts: TerminalOptions): Promise<Terminal> {
  const n = ++made;
  const socket = join(opts.dir, `tmux-${n}.sock`);
  const conf = join(opts.dir, `tmux-${n}.conf`);
  // read at the server's start, before the command runs: no status row, and the pane outlives the command
  writeFileSync(conf, 'set -g status off\nset -g remain-on-exit on\n');
  const env = { ...opts.env };
  delete env.TMUX;
  const tmux = (...args: string[]) => exec('tmux', ['-S', socket, ...args], { env }).then((r) => r.stdout);
  await exec('tmux', ['-S', socket, '-f', conf, 'new-session', '-d', '-s', 't', '-x', String(opts.width ?? 200),
    '-y', String(opts.height ?? 40), '-c', opts.cwd, '--', ...argv], { env });
  const [server, pane] = (await tmux('display-message', '-p', '-t', 't', '#{pid} #{pane_pid}')).trim().split(' ').map(Number);
  // by pid, not by socket: the socket may be gone with the test's directory by then; a command still
  // running (its pane not dead, so the pid is still its) is killed too, not left to tmux's SIGHUP
  onTestFinished(async () => {
    const running = await tmux('display-message', '-p', '-t', 't', '#{pane_dead}').then((o) => o.trim() !== '1', () => true);
    const kill = (pid: number, signal: NodeJS.Signals) => { try { process.kill(pid, signal); } catch { /* already gone */ } };
    if (running) kill(pane!, 'SIGKILL');
    kill(server!, 'SIGTERM');
  });
  const screen = async () => (await tmux('capture-pane', '-p', '-S', '-', '-t', 't')).split('\n').map((l) => l.trimEnd());
  return {
    screen,
    async waitScreen(what, pick, timeoutMs = 30_000) {
      let last: string[] = [];
      try {
        return await waitFor(what, async () => pick(last = await screen()), timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}; the screen:\n${last.join('\n').trimEnd()}`);
      }
    },
    async exitStatus() {
      const [dead, status, server] = (await tmux('display-message', '-p', '-t', 't', '#{pane_dead} #{pane_dead_status} #{pid}')).trim().split(' ');
      if (dead !== '1') return undefined;
      if (status) return Number(status);
      // the pane's terminal closed but tmux has not reaped the command: Debian's tmux uses libutempter,
      // whose own SIGCHLD handler, in place while it removes the pane's utmp record, swallows the
      // command's SIGCHLD (tmux/tmux#311; the maintainer's workaround: send tmux another one)
      process.kill(Number(server), 'SIGCHLD');
      return undefined;
    },
    async keys(...keys) { await tmux('send-keys', '-t', 't', ...keys); },
  };
}
