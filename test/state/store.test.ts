import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachedStateStore } from '../../src/state/cached-store.js';
import { SqliteStateStore } from '../../src/state/sqlite-store.js';
import type { NewJob, StateStore } from '../../src/state/types.js';

let dir: string;
const open: StateStore[] = [];
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stx-state-')); });
afterEach(async () => {
  for (const s of open.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
});

function sqlite(): SqliteStateStore {
  const s = new SqliteStateStore(join(dir, 'state.db'));
  open.push(s);
  return s;
}

const exportJob = (volumeId: string, extra: Partial<NewJob> = {}): NewJob => ({
  kind: 'volume-export', resourceType: 'volume', resourceId: volumeId, projectId: 'p',
  params: { volumeId, sizeGiB: 1, host: null }, bytesTotal: 1000,
  backupStatus: [{ resourceType: 'volume', resourceId: volumeId, backupStatus: 'Export started at 2020-01-01 00:00:00' }],
  ...extra,
});

describe.each([
  ['sqlite', () => sqlite()],
  ['cached sqlite', () => new CachedStateStore(sqlite(), 100)],
] as const)('%s store', (_name, make) => {
  it('allows one unfinished job per resource, and a new one once it finished', () => {
    const s = make();
    const a = s.createJob(exportJob('v1'))!;
    expect(a).toMatchObject({ state: 'queued', resourceId: 'v1', bytesDone: 0, bytesTotal: 1000, fileName: null });
    expect(s.createJob(exportJob('v1'))).toBeNull();
    expect(s.createJob(exportJob('v2'))).not.toBeNull();
    expect(s.activeJobFor('volume', 'v1')!.id).toBe(a.id);
    s.markRunning(a.id);
    expect(s.createJob(exportJob('v1'))).toBeNull();
    s.finishJob(a.id, { state: 'succeeded', backupStatus: [] });
    expect(s.activeJobFor('volume', 'v1')).toBeUndefined();
    expect(s.createJob(exportJob('v1'))).not.toBeNull();
    expect(s.listUnfinished().map((j) => j.resourceId)).toEqual(['v2', 'v1']);
  });

  it('holds the volume too: no export of a volume while one of its snapshots is exported, and the reverse', () => {
    const s = make();
    const snapJob = (snapshotId: string): NewJob => ({
      kind: 'snapshot-export', resourceType: 'snapshot', resourceId: snapshotId, projectId: 'p',
      params: { volumeId: 'v1', snapshotId, sizeGiB: 1, host: null }, bytesTotal: 1, backupStatus: [],
    });
    const snap = s.createJob(snapJob('s1'))!;
    expect(s.createJob(exportJob('v1'))).toBeNull();
    expect(s.createJob({ ...exportJob('v1'), kind: 'volume-import' })).toBeNull();
    expect(s.createJob(snapJob('s2'))).toBeNull();
    expect(s.createJob(exportJob('v2'))).not.toBeNull();
    s.finishJob(snap.id, { state: 'succeeded', backupStatus: [] });
    const vol = s.createJob(exportJob('v1'))!;
    expect(vol).not.toBeNull();
    expect(s.createJob(snapJob('s1'))).toBeNull();
  });

  it('a refused job records nothing, not even its backup_status', () => {
    const s = make();
    s.createJob(exportJob('v1'));
    expect(s.createJob({ ...exportJob('v1'), backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'other' }] })).toBeNull();
    expect(s.overlay('volume', 'v1').backupStatus).toBe('Export started at 2020-01-01 00:00:00');
  });

  it('finishes a job once: a second finish changes nothing', () => {
    const s = make();
    const j = s.createJob(exportJob('v1'))!;
    s.finishJob(j.id, { state: 'failed', error: 'first', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Export failed at x. Reason: first' }] });
    s.finishJob(j.id, { state: 'succeeded', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Export completed at y' }] });
    expect(s.getJob(j.id)).toMatchObject({ state: 'failed', error: 'first' });
    expect(s.overlay('volume', 'v1').backupStatus).toBe('Export failed at x. Reason: first');
  });

  it('overlays status and progress while a job holds the resource, and the import error after', () => {
    const s = make();
    expect(s.overlay('volume', 'v9')).toEqual({ backupStatus: null, status: null, progress: null });
    const j = s.createJob({ ...exportJob('v1'), kind: 'volume-import' })!;
    expect(s.overlay('volume', 'v1')).toEqual({ backupStatus: 'Export started at 2020-01-01 00:00:00', status: 'importing', progress: '0%' });
    s.markRunning(j.id);
    s.setProgress(j.id, 370);
    expect(s.overlay('volume', 'v1').progress).toBe('37%');
    s.setProgress(j.id, 500, 2000);
    expect(s.overlay('volume', 'v1').progress).toBe('25%');
    s.finishJob(j.id, { state: 'failed', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Import failed', statusOverride: 'error' }] });
    expect(s.overlay('volume', 'v1')).toEqual({ backupStatus: 'Import failed', status: 'error', progress: null });
    // an export later leaves the error as it is (statusOverride undefined); a completed import clears it
    const e = s.createJob(exportJob('v1'))!;
    s.finishJob(e.id, { state: 'succeeded', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Export completed' }] });
    expect(s.overlay('volume', 'v1').status).toBe('error');
    const i = s.createJob({ ...exportJob('v1'), kind: 'volume-import' })!;
    s.finishJob(i.id, { state: 'succeeded', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Import completed', statusOverride: null }] });
    expect(s.overlay('volume', 'v1')).toEqual({ backupStatus: 'Import completed', status: null, progress: null });
    // a status reset clears a failed import's error and keeps the backup_status text
    const f = s.createJob({ ...exportJob('v1'), kind: 'volume-import' })!;
    s.finishJob(f.id, { state: 'failed', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Import failed', statusOverride: 'error' }] });
    expect(s.overlay('volume', 'v1').status).toBe('error');
    s.clearStatusOverride('volume', 'v1');
    expect(s.overlay('volume', 'v1')).toEqual({ backupStatus: 'Import failed', status: null, progress: null });
  });

  it('snapshot exports show exporting on the snapshot only, and write both strings', () => {
    const s = make();
    const j = s.createJob({
      kind: 'snapshot-export', resourceType: 'snapshot', resourceId: 's1', projectId: 'p',
      params: { volumeId: 'v1', snapshotId: 's1', sizeGiB: 1, host: null }, bytesTotal: 10,
      backupStatus: [{ resourceType: 'snapshot', resourceId: 's1', backupStatus: 'Export started' },
        { resourceType: 'volume', resourceId: 'v1', backupStatus: 'Snapshot export started' }],
    })!;
    expect(s.overlay('snapshot', 's1')).toMatchObject({ status: 'exporting', backupStatus: 'Export started' });
    expect(s.overlay('volume', 'v1')).toEqual({ status: null, backupStatus: 'Snapshot export started', progress: null });
    s.setFileName(j.id, 'volume-v1-20200101-000000.tgz');
    s.finishJob(j.id, { state: 'succeeded', backupStatus: [] });
    expect(s.getJob(j.id)!.fileName).toBe('volume-v1-20200101-000000.tgz');
    expect(s.overlay('snapshot', 's1').status).toBeNull();
  });
});

describe('cached store', () => {
  it('drops a cached overlay whenever the resource changes', () => {
    const inner = sqlite();
    const s = new CachedStateStore(inner, 100);
    expect(s.overlay('volume', 'v1').status).toBeNull(); // cached now
    const j = s.createJob(exportJob('v1'))!;
    expect(s.overlay('volume', 'v1').status).toBe('exporting');
    s.markRunning(j.id);
    s.setProgress(j.id, 500);
    expect(s.overlay('volume', 'v1').progress).toBe('50%');
    s.finishJob(j.id, { state: 'succeeded', backupStatus: [{ resourceType: 'volume', resourceId: 'v1', backupStatus: 'Export completed' }] });
    expect(s.overlay('volume', 'v1')).toEqual({ backupStatus: 'Export completed', status: null, progress: null });
  });

  it('serves repeated reads from memory (a write behind its back is not seen until invalidated)', () => {
    const inner = sqlite();
    const s = new CachedStateStore(inner, 100);
    expect(s.overlay('volume', 'v1').backupStatus).toBeNull();
    inner.createJob(exportJob('v1'));
    expect(s.overlay('volume', 'v1').backupStatus).toBeNull();
    const j = s.activeJobFor('volume', 'v1')!;
    s.setProgress(j.id, 1);
    expect(s.overlay('volume', 'v1').backupStatus).toBe('Export started at 2020-01-01 00:00:00');
  });
});

describe('durability', () => {
  it('keeps jobs and backup_status across close and reopen', () => {
    const a = new SqliteStateStore(join(dir, 'state.db'));
    const j = a.createJob(exportJob('v1'))!;
    const k = a.createJob(exportJob('v2'))!;
    a.markRunning(j.id);
    a.setProgress(j.id, 250);
    a.finishJob(k.id, { state: 'succeeded', fileName: 'f.tgz', backupStatus: [{ resourceType: 'volume', resourceId: 'v2', backupStatus: 'Export completed' }] });
    a.close();
    const b = sqlite();
    expect(b.listUnfinished().map((x) => x.id)).toEqual([j.id]);
    expect(b.getJob(j.id)).toMatchObject({ state: 'running', bytesDone: 250, params: { volumeId: 'v1', sizeGiB: 1, host: null } });
    expect(b.getJob(j.id)!.startedAt).not.toBeNull();
    expect(b.getJob(k.id)).toMatchObject({ state: 'succeeded', fileName: 'f.tgz' });
    expect(b.overlay('volume', 'v2').backupStatus).toBe('Export completed');
    expect(b.overlay('volume', 'v1')).toMatchObject({ status: 'exporting', progress: '25%' });
  });
});
