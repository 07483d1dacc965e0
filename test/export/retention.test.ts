import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { parseArchiveName } from '../../src/export/archive-name.js';
import { createRetention, planRetention } from '../../src/export/retention.js';
import { captureLogger } from '../helpers/servers.js';
import type { Job } from '../../src/state/types.js';

const A = '11111111-2222-3333-4444-555555555555';
const B = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const NOW = new Date('2026-12-01T12:00:00Z');
const name = (vol: string, stamp: string, ext = '.tgz') => `volume-${vol}-${stamp}${ext}`;

describe('parseArchiveName', () => {
  it('reads the volume and the time from our names, and nothing else', () => {
    expect(parseArchiveName(name(A, '20261130-235959'))).toEqual({ volumeId: A, createdAt: new Date('2026-11-30T23:59:59Z'), ext: '.tgz' });
    expect(parseArchiveName(name(A, '20261130-235959', '.tar.zst'))?.ext).toBe('.tar.zst');
    for (const other of [name(A, '20261130-235959', '.zip'), name(A, '20261399-000000'), `x${name(A, '20261130-235959')}`,
      name(A, '20261130-235959') + '.sha256', `volume-${A}.vol`, 'notes.txt', name(A, '20261130-245959')]) {
      expect(parseArchiveName(other), other).toBeUndefined();
    }
  });
});

describe('planRetention', () => {
  const names = [
    name(A, '20261201-110000'), name(A, '20261130-110000'), name(A, '20261101-110000', '.tar'), name(A, '20261001-110000'),
    name(B, '20261120-000000'), name(B, '20261201-000000', '.tar.zst'),
    'operator-notes.txt', `${name(A, '20261001-110000')}.sha256`,
  ];

  it('deletes nothing with both rules off (the default)', () => {
    const { retention } = configSchema.parse({});
    expect(planRetention(names, retention, NOW, new Set())).toEqual([]);
  });

  it('keeps the newest N of each volume', () => {
    const plan = planRetention(names, { keepPerVolume: 2, maxAgeDays: 0 }, NOW, new Set());
    expect(plan.map((d) => [d.name, d.rule])).toEqual([
      [name(A, '20261001-110000'), 'keepPerVolume'], [name(A, '20261101-110000', '.tar'), 'keepPerVolume'],
    ]);
  });

  it('deletes what is older than D days (by the injected clock), and names the age rule when both apply', () => {
    const plan = planRetention(names, { keepPerVolume: 3, maxAgeDays: 10 }, NOW, new Set());
    expect(plan.map((d) => [d.name, d.rule])).toEqual([
      [name(A, '20261001-110000'), 'maxAgeDays'], [name(A, '20261101-110000', '.tar'), 'maxAgeDays'],
      [name(B, '20261120-000000'), 'maxAgeDays'],
    ]);
    // one second either side of the limit
    const edge = [name(A, '20261121-120000'), name(A, '20261121-115959')];
    expect(planRetention(edge, { keepPerVolume: 0, maxAgeDays: 10 }, NOW, new Set()).map((d) => d.name)).toEqual([edge[1]]);
  });

  it('never names an archive a job is reading', () => {
    const busy = new Set([name(A, '20261001-110000')]);
    const plan = planRetention(names, { keepPerVolume: 1, maxAgeDays: 0 }, NOW, busy);
    expect(plan.map((d) => d.name)).toEqual([name(A, '20261101-110000', '.tar'), name(A, '20261130-110000'), name(B, '20261120-000000')]);
  });
});

describe('createRetention', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stx-retention-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  const capture = () => captureLogger('info');

  it('dry run deletes nothing; a real run deletes exactly the plan, each .sha256 with its archive, and logs the rule', async () => {
    const files = [name(A, '20261201-110000'), name(A, '20261130-110000'), name(A, '20261115-110000'), name(B, '20260101-000000')];
    for (const f of files) { await writeFile(join(dir, f), 'x'); await writeFile(join(dir, `${f}.sha256`), 'y'); }
    await writeFile(join(dir, 'keep-me.txt'), 'z');
    const importing = { kind: 'volume-import', state: 'running', params: { volumeId: B, fileName: files[3] } } as unknown as Job;
    const jobs: Job[] = [];
    const { logger, lines } = capture();
    const config = { exportDir: dir, retention: { keepPerVolume: 2, maxAgeDays: 30, sweepIntervalMs: 1000 } };
    const r = createRetention({ config, store: { listJobs: async () => jobs }, logger, now: () => NOW });
    const before = (await readdir(dir)).sort();

    const dry = await r.apply({ dryRun: true });
    expect(dry.map((d) => [d.name, d.rule])).toEqual([[files[2], 'keepPerVolume'], [files[3], 'maxAgeDays']]);
    expect((await readdir(dir)).sort()).toEqual(before);

    jobs.push(importing);
    const done = await r.apply();
    expect(done.map((d) => d.name)).toEqual([files[2]]);
    expect((await readdir(dir)).sort()).toEqual(before.filter((f) => f !== files[2] && f !== `${files[2]}.sha256`));
    const logged = lines.filter((l) => l.msg === 'archive deleted by retention');
    expect(logged.map((l) => [l.fileName, l.rule, l.limit])).toEqual([[files[2], 'keepPerVolume', 2]]);

    jobs.length = 0; // the import ended: its archive goes on the next sweep
    expect((await r.apply()).map((d) => d.name)).toEqual([files[3]]);
  });

  it('does nothing, and starts no timer, when both rules are off', async () => {
    await writeFile(join(dir, name(A, '20200101-000000')), 'x');
    const { logger } = capture();
    const r = createRetention({ config: { exportDir: dir, retention: configSchema.parse({}).retention }, store: { listJobs: async () => [] }, logger });
    expect(await r.apply()).toEqual([]);
    expect(await readdir(dir)).toHaveLength(1);
    r.startSweep()();
  });
});
