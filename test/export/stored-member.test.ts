import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { indexedPieces } from '../../src/export/archive/indexed-reader.js';
import { frameMember, readMemberHeader, storedMember } from '../../src/export/archive/member.js';
import { isHole } from '../../src/export/zero.js';

describe('storedMember: incompressible data as deflate stored blocks in one of our indexed members', () => {
  for (const size of [0, 1, 65535, 65536, 65535 * 3, 4 * 1024 * 1024 + 3]) {
    it(`${size} bytes: zlib and gzip -d give them back, the index names the member's length`, () => {
      const data = randomBytes(size);
      const member = Buffer.concat(storedMember(data));
      expect(gunzipSync(member).equals(data)).toBe(true);
      expect(execFileSync('gzip', ['-dc'], { input: member, maxBuffer: 64 * 1024 * 1024 }).equals(data)).toBe(true);
      expect(readMemberHeader(member, 0)).toEqual({ length: member.length, zero: false });
    });
  }

  it('a flipped data byte is caught by the CRC-32 in the trailer', () => {
    const member = Buffer.concat(storedMember(randomBytes(100_000)));
    member.writeUInt8(member.readUInt8(member.length - 20) ^ 0x01, member.length - 20);
    expect(() => gunzipSync(member)).toThrow();
  });
});

/** Every byte indexedPieces reads out of these members, written as one archive file. */
async function readBack(members: Buffer[]): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'stx-stored-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.gz'), Buffer.concat(members));
  const fh = await open(join(dir, 'a.gz'), 'r');
  onTestFinished(() => fh.close());
  const out: Buffer[] = [];
  for await (const p of indexedPieces(fh, AbortSignal.timeout(30_000))) out.push(isHole(p) ? Buffer.alloc(p.hole) : p);
  return Buffer.concat(out);
}

describe('the indexed reader on stored members (copied out without zlib)', () => {
  const data = randomBytes(3 * 65535 + 17);
  const compressed = Buffer.alloc(70_000, 0x61);

  it('gives back the bytes of stored and compressed members alike, in order', async () => {
    const members = [Buffer.concat(storedMember(data)), Buffer.concat(frameMember(gzip6(compressed), false)), Buffer.concat(storedMember(data.subarray(0, 5)))];
    expect((await readBack(members)).equals(Buffer.concat([data, compressed, data.subarray(0, 5)]))).toBe(true);
  });

  it('refuses a flipped data byte (CRC-32), a bad block length and a size that lies, before yielding anything', async () => {
    const flipped = Buffer.concat(storedMember(data));
    flipped.writeUInt8(flipped.readUInt8(40_000) ^ 0x10, 40_000);
    await expect(readBack([flipped])).rejects.toThrow(/incorrect data check/);
    const badLength = Buffer.concat(storedMember(data));
    badLength.writeUInt16LE(0x1234, 26 + 3); // NLEN no longer the complement of LEN
    await expect(readBack([badLength])).rejects.toThrow(/stored block/);
    const lyingSize = Buffer.concat(storedMember(data));
    lyingSize.writeUInt32LE(data.length + 1, lyingSize.length - 4);
    await expect(readBack([lyingSize])).rejects.toThrow(/gzip member at offset 0/);
  });
});

/** zlib's gzip output at level 6 (a compressed member for the mix). */
function gzip6(bytes: Buffer): Buffer {
  return execFileSync('gzip', ['-6', '-c', '-n'], { input: bytes });
}
