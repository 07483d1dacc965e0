import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';

/** Another live process holds the embedded state. */
export class StateInUseError extends Error {}

export interface ProcessLock {
  /** Let go (at shutdown); the OS does the same when the process dies, even by kill -9. */
  release(): void;
}

function holderOf(pidPath: string): string {
  try {
    const pid = readFileSync(pidPath, 'utf8').trim();
    return /^\d+$/.test(pid) ? `process ${pid}` : 'another process';
  } catch {
    return 'another process (its pid is not recorded yet)';
  }
}

/**
 * One process per embedded state: on start, the other's running jobs would be marked interrupted and
 * its temp files deleted. The lock is SQLite's own (fcntl) lock on `<state>.lock`, taken in
 * EXCLUSIVE locking mode so it is held for the connection's life and dropped by the OS when the
 * holder dies, so a restart after a crash just works. The holder's pid goes to `<state>.pid` for the
 * refusal message (SQLite's lock cannot be read while held).
 */
export function holdProcessLock(statePath: string): ProcessLock {
  const lockPath = `${statePath}.lock`;
  const pidPath = `${statePath}.pid`;
  const db = new Database(lockPath, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // a write takes the EXCLUSIVE lock, which EXCLUSIVE mode then never gives back
    db.exec('BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder;');
    db.prepare('INSERT INTO holder VALUES (?)').run(process.pid);
    db.exec('COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StateInUseError(`state file ${statePath} is in use by ${holderOf(pidPath)}; one proxy per dataDir`);
    }
    throw err;
  }
  const temp = `${pidPath}.${process.pid}`;
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o600 });
  renameSync(temp, pidPath);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      // a successor may already have written its own pid only after we let go, so remove first
      rmSync(pidPath, { force: true });
      db.close();
    },
  };
}
