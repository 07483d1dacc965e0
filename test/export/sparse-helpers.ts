import { execFileSync } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { looksIndexed, MEMBER_HEADER } from '../../src/export/archive/member.js';

const out = (script: string) => execFileSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim();

/** The `.vol` member's sha256 as GNU tar, `gzip -d` + tar and Python's tarfile each read it. */
export function readersSha256(archive: string, volumeId: string): { gnuTar: string; gzipD: string; python: string } {
  const member = `volume-${volumeId}.vol`;
  const py = [
    'import hashlib, sys, tarfile',
    'h = hashlib.sha256()',
    'with tarfile.open(sys.argv[1], "r:gz") as t:',
    '  f = t.extractfile(sys.argv[2])',
    '  for b in iter(lambda: f.read(1 << 20), b""): h.update(b)',
    'print(h.hexdigest())',
  ].join('\n');
  return {
    gnuTar: out(`tar -xzOf '${archive}' ${member} | sha256sum`).split(' ')[0]!,
    gzipD: out(`gzip -dc '${archive}' | tar -xOf - ${member} | sha256sum`).split(' ')[0]!,
    python: execFileSync('python3', ['-c', py, archive, member], { encoding: 'utf8' }).trim(),
  };
}

export interface MemberInfo { offset: number; length: number; zero: boolean }

/** Walk an indexed archive's members by their index (what the importer does, without its checks). */
export async function membersOf(archive: string): Promise<MemberInfo[]> {
  const buf = await readFile(archive);
  const members: MemberInfo[] = [];
  for (let off = 0; off < buf.length;) {
    const head = buf.subarray(off, off + MEMBER_HEADER);
    if (!looksIndexed(head)) throw new Error(`no indexed member at ${off}`);
    const length = head.readUInt32LE(18);
    members.push({ offset: off, length, zero: (head[17]! & 1) === 1 });
    off += length;
  }
  return members;
}

/** Bytes allocated on disk (holes are not). */
export async function allocated(path: string): Promise<number> {
  return (await stat(path)).blocks * 512;
}
