import { spawn, type ChildProcess } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';

const STDERR_TAIL = 400;

export interface Spawned {
  child: ChildProcess;
  /**
   * The helper's stdout, already piped: node drops the output of a child that exits before anyone reads
   * (it resumes unread stdio on exit), and our first read may come after a few awaits.
   */
  stdout: Readable | undefined;
  /** Resolves on exit status 0; rejects with `<cmd> exited with status N: <stderr tail>` otherwise. */
  exited: Promise<void>;
  kill(): void;
}

/** Run an argv (no shell) with the given stdio; stderr is kept as a short tail for the failure reason. */
export function spawnArgv(argv: string[], stdio: { stdin: boolean; stdout: boolean }, signal: AbortSignal): Spawned {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('empty command');
  const child = spawn(cmd, args, {
    stdio: [stdio.stdin ? 'pipe' : 'ignore', stdio.stdout ? 'pipe' : 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (d: Buffer) => { tail = (tail + d.toString('utf8')).slice(-STDERR_TAIL); });
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  const onAbort = () => kill();
  signal.addEventListener('abort', onAbort, { once: true });
  const exited = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`${cmd}: ${err.message}`)));
    child.once('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (code === 0) return resolve();
      const how = code !== null ? `status ${code}` : `signal ${sig}`;
      const detail = tail.trim().replace(/\s+/g, ' ');
      reject(new Error(`${cmd} exited with ${how}${detail ? `: ${detail}` : ''}`));
    });
  });
  exited.catch(() => {});
  const stdout = child.stdout?.pipe(new PassThrough({ highWaterMark: 1024 * 1024 }));
  // a helper that dies early makes our writes fail with EPIPE; the exit status is the better reason
  child.stdin?.on('error', () => {});
  return { child, stdout, exited, kill };
}

/** Wait until a helper's stdin drains, or fail if the helper is gone. */
export function waitDrain(p: Spawned): Promise<void> {
  const stdin = p.child.stdin!;
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      stdin.off('drain', onDrain); stdin.off('close', onClose);
      if (err) reject(err); else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new Error(`${p.child.spawnargs[0]} stopped reading its input`));
    stdin.on('drain', onDrain);
    stdin.on('close', onClose);
    if (stdin.destroyed) onClose();
  });
}
