import { join } from 'node:path';
import { projectRoot } from './paths.js';
import { httpCall, run, spawnTracked } from './procs.js';

/** The lock every user of the shared Cinder holds (the e2e tests take it too: HELPERS.md). */
export const E2E_LOCK = '/tmp/stx-e2e.lock';

/**
 * Hold `flock E2E_LOCK` until the returned release is called: a `flock` child that keeps the lock while its
 * stdin is open, so the lock also goes when the bench dies.
 */
export async function holdLock(path = E2E_LOCK, timeoutSec = 900): Promise<() => Promise<void>> {
  const holder = spawnTracked('flock', ['-w', String(timeoutSec), path, 'sh', '-c', 'echo LOCKED; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    holder.child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('LOCKED')) resolve(); });
    void holder.exited.then((code) => reject(new Error(`flock ${path} gave up (exit ${code})`)));
  });
  return async () => { holder.child.stdin?.end(); await holder.exited; };
}

export interface SharedCinder {
  /** A cinder-api that takes noauth tokens (`admin:<project>`). */
  url: string;
  token: string;
  projectId: string;
  /** Whether this run had to start it (it is left running either way: other users may need it). */
  startedHere: boolean;
}

/**
 * The Cinder of scripts/cinder-dev, started (in the e2e tests' mode, so nobody restarts it afterwards) only when
 * it is not up; never stopped. Call with the lock held.
 */
export async function sharedCinder(): Promise<SharedCinder> {
  const script = join(projectRoot, 'scripts', 'cinder-dev');
  const status = await run('bash', [script, 'status'], { allowFail: true });
  const up = status.code === 0 && /api: HTTP 300/.test(status.stdout);
  if (!up) {
    await run('bash', [script, 'up'], {
      env: { ...process.env, CINDER_AUTH: process.env.CINDER_AUTH ?? 'keystone', CINDER_NOAUTH_PORT: process.env.CINDER_NOAUTH_PORT ?? '8777' },
      timeoutMs: 900_000,
    });
  }
  // the shell reads its own exports: one line per variable asked for
  const names = ['CINDER_PROJECT_ID', 'CINDER_NOAUTH_URL', 'CINDER_AUTH', 'CINDER_URL'] as const;
  const printed = await run('bash', ['-c', `eval "$(bash '${script}' env)" && printf '%s\\n' ${names.map((n) => `"\${${n}:-}"`).join(' ')}`]);
  const [projectId, noauthUrl, auth, cinderUrl] = printed.stdout.split('\n');
  const url = noauthUrl || (auth === 'noauth' ? cinderUrl : undefined);
  if (!projectId || !url) throw new Error('scripts/cinder-dev env names no noauth cinder-api (CINDER_NOAUTH_URL) and project');
  return { url, token: `admin:${projectId}`, projectId, startedHere: !up };
}

/** A 1 GiB volume of the bench's own, available; deleted by the returned function. */
export async function benchVolume(c: SharedCinder, name: string): Promise<{ id: string; remove: () => Promise<void> }> {
  const headers = { 'X-Auth-Token': c.token, Accept: 'application/json' };
  const base = `${c.url}/v3/${c.projectId}/volumes`;
  const created = await httpCall('POST', base, headers, JSON.stringify({ volume: { size: 1, name } }));
  if (created.status !== 202) throw new Error(`volume create answered ${created.status}: ${created.body.slice(0, 300)}`);
  const id = String((JSON.parse(created.body) as { volume: { id: string } }).volume.id);
  const remove = async () => { await httpCall('DELETE', `${base}/${id}`, headers).catch(() => undefined); };
  const deadline = Date.now() + 180_000;
  for (;;) {
    const status = String((JSON.parse((await httpCall('GET', `${base}/${id}`, headers)).body) as { volume?: { status?: string } }).volume?.status);
    if (status === 'available') return { id, remove };
    if (status === 'error' || Date.now() > deadline) { await remove(); throw new Error(`bench volume ${id} is ${status}`); }
    await new Promise((r) => setTimeout(r, 500));
  }
}
