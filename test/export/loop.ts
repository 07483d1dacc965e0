import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { sh, type Harness } from './helpers.js';

/**
 * A loop device over `backing`, linked as `<h.dir>/dev/volume-<id>`; detached when the test finishes.
 * (Not in helpers.ts: the crash test's child process imports that outside vitest.)
 */
export function loopDevice(h: Harness, backing: string, id: string): string {
  const dev = execFileSync('losetup', ['-f', '--show', backing], { encoding: 'utf8' }).trim();
  onTestFinished(() => { execFileSync('losetup', ['-d', dev]); });
  sh('mkdir', ['-p', join(h.dir, 'dev')]);
  sh('ln', ['-s', dev, join(h.dir, 'dev', `volume-${id}`)]);
  return dev;
}
