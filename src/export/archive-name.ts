import { EXTENSIONS } from './archive/compressors.js';

export interface ArchiveName {
  volumeId: string;
  /** When the export began (UTC, from the name's `YYYYMMDD-HHMMSS`). */
  createdAt: Date;
  /** `.tgz`, `.tar` or `.tar.zst`. */
  ext: string;
}

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const EXTS = Object.values(EXTENSIONS).map((e) => e.replace(/\./g, '\\.')).join('|');
const PATTERN = new RegExp(`^volume-(${UUID})-(\\d{4})(\\d\\d)(\\d\\d)-(\\d\\d)(\\d\\d)(\\d\\d)(${EXTS})$`);

/** What an archive's name says (`volume-<uuid>-<YYYYMMDD-HHMMSS>.tgz|.tar|.tar.zst`), or undefined for any other name. */
export function parseArchiveName(name: string): ArchiveName | undefined {
  const m = PATTERN.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(2, 8).map(Number) as [number, number, number, number, number, number];
  const createdAt = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // 20261399-...: a name that only looks like ours
  if (createdAt.getUTCMonth() !== mo - 1 || createdAt.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return { volumeId: m[1]!.toLowerCase(), createdAt, ext: m[8]! };
}
