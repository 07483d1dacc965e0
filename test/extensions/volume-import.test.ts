import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { PROJECT, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { startHarness, type Harness } from '../helpers/proxy-harness.js';

let h: Harness;
const NAME = `volume-${VOLUME_ID}-20261127-023802.tgz`;
beforeEach(async () => {
  h = await startHarness();
  await writeFile(join(h.exportDir, NAME), 'archive');
});

const importWith = (value: unknown, id = VOLUME_ID) =>
  request(`${h.url}/v2/${PROJECT}/volumes/${id}/action`, {
    method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify({ 'wrs-volume:os-volume_import': value }),
  });

const badRequest = (message: string) => ({ badRequest: { code: 400, message } });

describe('wrs-volume:os-volume_import', () => {
  it('answers 202 with the spec body and records the job', async () => {
    const res = await importWith({ file_name: NAME });
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({
      'wrs-volume:os-volume_import': {
        id: VOLUME_ID, updated_at: '2026-11-27T02:38:02.549053', status: 'importing',
        display_description: 'test volume', size: 1, volume_type: '__DEFAULT__',
      },
    });
    const job = h.engine.submitted[0]!;
    expect(job).toMatchObject({ kind: 'volume-import', resourceType: 'volume', resourceId: VOLUME_ID });
    expect(job.params).toEqual({ volumeId: VOLUME_ID, sizeGiB: 1, host: 'cinder-local@nfs1#nfs1', attached: false, fileName: NAME });
    expect(h.store.overlay('volume', VOLUME_ID)).toMatchObject({ status: 'importing', backupStatus: expect.stringMatching(/^Import started at /) });
  });

  it('accepts a bare string as the file name (the 2015 doc)', async () => {
    const res = await importWith(NAME);
    expect(res.status).toBe(202);
    expect(h.engine.submitted[0]!.params.fileName).toBe(NAME);
  });

  it.each([null, {}, { file_name: '' }, '', { file_name: 7 }, []])('refuses %j without asking upstream', async (value) => {
    const res = await importWith(value);
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(badRequest('No file_name was specified in request.'));
    expect(h.fake.requestsTo('GET', `/v3/${PROJECT}/volumes`)).toHaveLength(0);
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('answers 404 for a file that is not in the export directory', async () => {
    const res = await importWith({ file_name: 'volume-x-20200101-000000.tgz' });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ itemNotFound: { code: 404, message: 'File volume-x-20200101-000000.tgz could not be found.' } });
    expect(h.engine.submitted).toHaveLength(0);
  });

  it.each(['../etc/passwd', 'sub/x.tgz', '/etc/passwd', '..', 'a\\b.tgz'])('answers 400 for the name %j', async (name) => {
    const res = await importWith({ file_name: name });
    expect(res.status).toBe(400);
    expect(res.json().badRequest.message).toContain('Invalid file_name');
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('answers 400 for a symlink that leaves the export directory', async () => {
    const outside = join(h.exportDir, '..', `outside-${process.pid}.tgz`);
    await writeFile(outside, 'x');
    await symlink(outside, join(h.exportDir, 'link.tgz'));
    const res = await importWith({ file_name: 'link.tgz' });
    expect(res.status).toBe(400);
    expect(h.engine.submitted).toHaveLength(0);
    await import('node:fs/promises').then((fs) => fs.rm(outside));
  });

  it('answers 404 for a directory', async () => {
    await mkdir(join(h.exportDir, 'dir.tgz'));
    expect((await importWith({ file_name: 'dir.tgz' })).status).toBe(404);
  });

  it('checks the volume (caller\'s credentials) before the file', async () => {
    const res = await importWith({ file_name: 'missing.tgz' }, '00000000-0000-0000-0000-000000000000');
    expect(res.status).toBe(404);
    expect(res.json().itemNotFound.message).toBe('Volume 00000000-0000-0000-0000-000000000000 could not be found.');
  });

  it.each(['in-use', 'creating', 'deleting'])('refuses a volume in status %s', async (status) => {
    h.fake.volumes.get(VOLUME_ID)!.status = status;
    const res = await importWith({ file_name: NAME });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(badRequest('Invalid volume: Volume status must be available or error.'));
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('accepts a volume in status error (after a site restore)', async () => {
    h.fake.volumes.get(VOLUME_ID)!.status = 'error';
    h.fake.volumes.get(VOLUME_ID)!.attachments = [{ server_id: 's' }];
    expect((await importWith({ file_name: NAME })).status).toBe(202);
    expect(h.engine.submitted[0]!.params.attached).toBe(true);
  });

  it('refuses a volume with snapshots', async () => {
    h.fake.addSnapshot();
    const res = await importWith({ file_name: NAME });
    expect(res.status).toBe(400);
    expect(res.json()).toEqual(badRequest('Invalid volume: Volume has 1 dependent snapshots'));
    expect(h.engine.submitted).toHaveLength(0);
  });

  it('refuses while an export holds the volume', async () => {
    const exp = await request(`${h.url}/v2/${PROJECT}/volumes/${VOLUME_ID}/action`, {
      method: 'POST', headers: jsonHeaders(TOKEN), body: '{"wrs-volume:os-volume_export": null}',
    });
    expect(exp.status).toBe(202);
    const res = await importWith({ file_name: NAME });
    expect(res.json()).toEqual(badRequest('Invalid volume: Volume status must be available or error.'));
    expect(h.engine.submitted).toHaveLength(1);
  });
});
