import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { GiB, harness, makeVolumeFile, meta, MiB, newId, RAM_DIR, runJob, type Harness } from './helpers.js';
import { membersOf, type MemberInfo } from './sparse-helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

const SIZE = 64 * MiB;
const SIZE_GIB = SIZE / GiB;
/** What the target volume holds before the import: any byte of it left after a failure is not a wrong byte. */
const OLD = 0xee;

type Damage = (buf: Buffer, members: MemberInfo[]) => void;

/** Damage late in the archive, so a verify-off import has written data before it meets the damage. */
const laterZero = (ms: MemberInfo[]) => ms.filter((m, i) => m.zero && !ms[i - 1]!.zero).pop()!;
const laterData = (ms: MemberInfo[]) => ms.filter((m) => !m.zero && m.length > 100_000).pop()!;
const fixHeaderCrc = (buf: Buffer, m: MemberInfo) => buf.writeUInt32LE(crc32(buf.subarray(m.offset, m.offset + 22)), m.offset + 22);

const damages: Array<[string, Damage, RegExp]> = [
  ['a corrupted zero member', (buf, ms) => { const m = laterZero(ms); buf[m.offset + 200]! ^= 0x10; },
    /gzip member at offset \d+|marked all-zero but holds data/],
  ['a corrupted index field (member length)', (buf, ms) => { const m = laterData(ms); buf[m.offset + 19]! ^= 0x01; },
    /archive index: damaged member header/],
  ['a corrupted index field (zero flag on a data member)', (buf, ms) => { const m = laterData(ms); buf[m.offset + 17] = 1; },
    /archive index: damaged member header/],
  ['an index that lies about a data member\'s length (its CRC made to match)', (buf, ms) => {
    const m = laterData(ms);
    buf.writeUInt32LE(m.length - 4096, m.offset + 18);
    fixHeaderCrc(buf, m);
  }, /gzip member at offset \d+: unexpected end of file|does not end where its index says|no indexed gzip member/],
  ['an index that lies about a zero member\'s length (its CRC made to match)', (buf, ms) => {
    const m = laterZero(ms);
    buf.writeUInt32LE(m.length + 64, m.offset + 18);
    fixHeaderCrc(buf, m);
  }, /gzip member at offset \d+|does not end where its index says|no indexed gzip member/],
];

/**
 * A volume with data and zero blocks on a dense target (the block backend on a regular file writes
 * every byte, holes as zeros), so a wrong byte would show: after a failed import the target must be the
 * source's bytes up to some point and its old bytes after it.
 */
describe.each([true, false])('a damaged index, verifyBeforeImport %s', (verify) => {
  it.each(damages)('refuses %s and never writes a wrong byte', async (_label, damage, reason) => {
    h = await harness((dir) => ({ backends: [{ name: 'dev', type: 'block', volumePath: `${dir}/vols/volume-{id}` }] }),
      { verifyBeforeImport: verify }, RAM_DIR);
    const id = newId();
    const vol = join(h.volDir, `volume-${id}`);
    await makeVolumeFile(vol, SIZE, [[0, 3 * MiB], [9 * MiB, 6 * MiB], [30 * MiB, 2 * MiB], [50 * MiB, 4 * MiB]]);
    const source = await readFile(vol);
    const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: SIZE_GIB });
    expect(exp.error).toBeNull();
    const archive = join(h.exportDir, exp.fileName!);
    await rm(`${archive}.sha256`); // with it, any damage is caught by the hash; here the index checks must catch it
    const buf = await readFile(archive);
    damage(buf, await membersOf(archive));
    await writeFile(archive, buf);

    await writeFile(vol, Buffer.alloc(SIZE, OLD));
    const imp = await runJob(h, 'volume-import', { volumeId: id, fileName: exp.fileName!, sizeGiB: SIZE_GIB });
    expect(imp.state).toBe('failed');
    expect(imp.error).toMatch(reason);
    const after = await readFile(vol);
    if (verify) {
      expect(after.every((b) => b === OLD)).toBe(true);
    } else {
      let p = 0;
      while (p < SIZE && after[p] === source[p]) p++;
      expect(p).toBeGreaterThan(9 * MiB);
      expect(after.subarray(p).every((b) => b === OLD)).toBe(true);
    }
  }, 120_000);
});
