// The StarlingX commands on Debian's stock, unpatched clients (clients/python, installed by
// scripts/install-clients): cinder export/import/snapshot-export and openstack volume
// export/import, volume snapshot export, through the proxy the keystone catalog names.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  E, P, TS, archivesOf, call, cinderCli, cleanup, createSnapshot, createVolume, osc, proxy, run, sha256File,
  volumeFile, waitBackupStatus, writeAt, type RunResult,
} from './helpers.js';
import { freePort, repoRoot, startProxyChild, stopProxyChild, writeProxyConfig } from './proxy-process.js';

afterAll(cleanup);

const install = () => run('bash', [join(repoRoot, 'scripts/install-clients')], { timeoutMs: 600_000 });
const ok = (r: RunResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** The fields of cinderclient's print_dict table (`| Property | Value |`). */
function table(out: string): Record<string, string> {
  const rows: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const m = /^\|\s*(\S+)\s*\|\s*(.*?)\s*\|$/.exec(line);
    if (m && m[1] !== 'Property') rows[m[1]!] = m[2]!;
  }
  return rows;
}

async function backupStatus(kind: 'volume' | 'snapshot', id: string): Promise<string | null> {
  const a = await proxy('GET', `/v3/${P}/${kind}s/${id}`);
  return a.json[kind][`wrs-${kind}:backup_status`];
}

/** The one archive of a volume that is not in `before`. */
async function newArchive(volumeId: string, before: string[]): Promise<string> {
  const added = (await archivesOf(E.exportDir, volumeId)).filter((n) => !before.includes(n));
  expect(added).toHaveLength(1);
  return added[0]!;
}

/** A new volume with random bytes written at its start, and the SHA-256 of its file. */
async function writtenVolume(name: string): Promise<{ vol: any; original: string }> {
  const vol = await createVolume(name);
  await writeAt(volumeFile(vol.id), 0, randomBytes(256 * 1024));
  return { vol, original: await sha256File(volumeFile(vol.id)) };
}

/** Overwrite the bytes writtenVolume wrote, so an import has something to restore. */
async function scramble(volumeId: string, original: string): Promise<void> {
  await writeAt(volumeFile(volumeId), 0, randomBytes(256 * 1024));
  expect(await sha256File(volumeFile(volumeId))).not.toBe(original);
}

/**
 * Run an export command, check the fields it printed, wait until the job completed; returns the
 * name of the archive it wrote (named after `volumeId`, the parent volume for a snapshot).
 */
async function runExport(kind: 'volume' | 'snapshot', id: string, volumeId: string, command: () => Promise<RunResult>,
  printed: (stdout: string) => unknown, want: Record<string, unknown>): Promise<string> {
  const before = await archivesOf(E.exportDir, volumeId);
  const r = await command();
  expect(r.code, ok(r)).toBe(0);
  expect(printed(r.stdout)).toMatchObject(want);
  await waitBackupStatus(kind, id, new RegExp(`^Export completed at ${TS}$`));
  return newArchive(volumeId, before);
}

beforeAll(async () => {
  const first = await install();
  expect(first.code, ok(first)).toBe(0);
}, 600_000);

describe('scripts/install-clients', () => {
  it('is idempotent: a second run finds the installed copy current and changes nothing', async () => {
    const site = '/usr/local/lib/python3.11/dist-packages';
    const record = join((await run('bash', ['-c', `echo ${site}/stx_cinder_clients-*.dist-info`])).stdout.trim(), 'RECORD');
    const before = readFileSync(record, 'utf8');
    const again = await install();
    expect(again.code, ok(again)).toBe(0);
    expect(again.stderr).toContain('stx-cinder-clients is up to date');
    expect(readFileSync(record, 'utf8')).toBe(before);
    const check = await run('bash', [join(repoRoot, 'scripts/install-clients'), '--check']);
    expect(check.code, ok(check)).toBe(0);
  });

  it('the commands are there, next to the stock ones', async () => {
    const help = await cinderCli('help');
    expect(help.code, ok(help)).toBe(0);
    for (const c of ['export', 'import', 'snapshot-export', 'backup-export']) expect(help.stdout).toMatch(new RegExp(`^\\s+${c}\\s`, 'm'));
    const list = await osc('command', 'list', '--group', 'volume', '-f', 'json');
    expect(list.code, ok(list)).toBe(0);
    const cmds = (JSON.parse(list.stdout) as { Commands: string[] }[]).flatMap((g) => g.Commands);
    expect(cmds).toEqual(expect.arrayContaining(['volume export', 'volume import', 'volume snapshot export', 'volume show']));
  });
});

describe('cinder export / import / snapshot-export', () => {
  let vol: any;
  let original = '';
  let archive = '';

  it('cinder export <name> exports the volume and prints the answer as a table', async () => {
    ({ vol, original } = await writtenVolume('e2e-cli-cinder'));
    archive = await runExport('volume', vol.id, vol.id, () => cinderCli('export', 'e2e-cli-cinder'), table,
      { id: vol.id, status: 'exporting', size: '1' });
  });

  it('cinder import <file> puts the archived bytes back into the volume its name carries', async () => {
    expect(archive, 'needs the export above').not.toBe('');
    await scramble(vol.id, original);

    const r = await cinderCli('import', archive);
    expect(r.code, ok(r)).toBe(0);
    expect(table(r.stdout)).toMatchObject({ id: vol.id, status: 'importing' });

    const done = await waitBackupStatus('volume', vol.id, new RegExp(`^Import completed at ${TS}$`));
    expect(done.status).toBe('available');
    expect(await sha256File(volumeFile(vol.id))).toBe(original);
  });

  it('cinder import refuses a name that is not an export archive\'s, with the message, and records nothing', async () => {
    expect(vol, 'needs the volume above').toBeDefined();
    const prev = await backupStatus('volume', vol.id);
    for (const bad of ['backup.tgz', `volume-${vol.id}.tgz`, join(E.exportDir, archive || 'x'), `${archive}.sha256`]) {
      const r = await cinderCli('import', bad);
      expect(r.code, `${bad}: ${ok(r)}`).toBe(1);
      expect(r.stderr).toContain(`ERROR: Invalid file name '${bad}'`);
      expect(r.stderr).toContain('volume-<volume uuid>-<YYYYMMDD-HHMMSS>.tgz (or .tar, .tar.zst)');
    }
    expect(await backupStatus('volume', vol.id)).toBe(prev);
  });

  it('cinder snapshot-export <name> writes an archive named after the parent volume', async () => {
    expect(vol, 'needs the volume above').toBeDefined();
    const snap = await createSnapshot(vol.id, 'e2e-cli-cinder-snap');
    await runExport('snapshot', snap.id, vol.id, () => cinderCli('snapshot-export', 'e2e-cli-cinder-snap'), table,
      { id: snap.id, status: 'exporting', volume_size: '1' });
  });
});

describe('openstack volume export / import / snapshot export (-f json|value)', () => {
  let vol: any;
  let original = '';
  let archive = '';

  it('openstack volume export -f json', async () => {
    ({ vol, original } = await writtenVolume('e2e-cli-osc'));
    archive = await runExport('volume', vol.id, vol.id, () => osc('volume', 'export', 'e2e-cli-osc', '-f', 'json'), JSON.parse,
      { id: vol.id, status: 'exporting', size: 1 });
  });

  it('openstack volume import <file> -f value -c status, then the bytes are back', async () => {
    expect(archive, 'needs the export above').not.toBe('');
    await scramble(vol.id, original);

    const r = await osc('volume', 'import', archive, '-f', 'value', '-c', 'status', '-c', 'id');
    expect(r.code, ok(r)).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([vol.id, 'importing']);

    await waitBackupStatus('volume', vol.id, new RegExp(`^Import completed at ${TS}$`));
    expect(await sha256File(volumeFile(vol.id))).toBe(original);
  });

  it('openstack volume import refuses a bad name with the message', async () => {
    const r = await osc('volume', 'import', 'volume-not-a-uuid-20260101-000000.tgz');
    expect(r.code, ok(r)).toBe(1);
    expect(r.stderr).toContain("Invalid file name 'volume-not-a-uuid-20260101-000000.tgz'");
  });

  it('openstack volume snapshot export -f json', async () => {
    expect(vol, 'needs the volume above').toBeDefined();
    const snap = await createSnapshot(vol.id, 'e2e-cli-osc-snap');
    await runExport('snapshot', snap.id, vol.id, () => osc('volume', 'snapshot', 'export', snap.id, '-f', 'json'), JSON.parse,
      { id: snap.id, status: 'exporting', volume_size: 1 });
  });
});

describe('wrs-header: backup_status where api.requireWrsHeader is on', () => {
  it('cinder export and cinder show through a gated proxy show backup_status; a plain GET does not', async () => {
    const port = await freePort();
    const dir = join(E.workDir, 'gated');
    mkdirSync(join(dir, 'export'), { recursive: true });
    const cfg = join(dir, 'proxy.yaml');
    writeProxyConfig(cfg, {
      port, upstream: E.cinderUrl, dataDir: join(dir, 'data'), exportDir: join(dir, 'export'),
      volumePath: `${E.mntBase}/*/volume-{id}`,
    });
    writeFileSync(cfg, JSON.stringify({ ...JSON.parse(readFileSync(cfg, 'utf8')), api: { requireWrsHeader: true } }));
    const gated = await startProxyChild(cfg, port, join(dir, 'proxy.log'));
    onTestFinished(() => stopProxyChild(gated));
    const endpoint = ['--os-endpoint', `${gated.url}/v3/${P}`];

    const vol = await createVolume('e2e-cli-gated');
    const plain = await call(gated.url, 'GET', `/v3/${P}/volumes/${vol.id}`);
    expect(plain.status).toBe(200);
    expect(plain.json.volume, 'the setting is on: no header, no backup_status').not.toHaveProperty('wrs-volume:backup_status');

    const r = await cinderCli(...endpoint, 'export', vol.id);
    expect(r.code, ok(r)).toBe(0);
    expect(table(r.stdout)).toMatchObject({ id: vol.id, status: 'exporting' });
    await waitBackupStatus('volume', vol.id, new RegExp(`^Export completed at ${TS}$`), { base: gated.url, headers: { 'wrs-header': '1' } });

    const s = await cinderCli(...endpoint, 'show', 'e2e-cli-gated');
    expect(s.code, ok(s)).toBe(0);
    expect(table(s.stdout)['wrs-volume:backup_status']).toMatch(new RegExp(`^Export completed at ${TS}$`));
    expect(await archivesOf(join(dir, 'export'), vol.id)).toHaveLength(1);
  });
});
