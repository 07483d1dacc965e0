import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GiB } from '../../constants.js';

export type TemplateVars = Record<string, string>;

/** Replace `{name}` placeholders; an unknown placeholder is an error, not an empty string. */
export function substitute(template: string, vars: TemplateVars): string {
  return template.replace(/\{([a-z_]+)\}/g, (_m, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`template ${template} uses {${key}}, which is not known here`);
    return value;
  });
}

/** Cinder ids are UUIDs: anything else (a `/`, `..`, a leading `-`) never reaches a path or an argv. */
const PLAIN_ID = /^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$/;

function checkedId(kind: string, id: string): string {
  if (!PLAIN_ID.test(id)) throw new Error(`refusing ${kind} id ${JSON.stringify(id.slice(0, 80))}: not a plain identifier`);
  return id;
}

export function refVars(volumeId: string, snapshotId: string | undefined, sizeBytes: number): TemplateVars {
  checkedId('volume', volumeId);
  if (snapshotId !== undefined) checkedId('snapshot', snapshotId);
  return {
    id: volumeId, volume_id: volumeId, snapshot_id: snapshotId ?? '',
    size: String(Math.ceil(sizeBytes / GiB)), size_bytes: String(sizeBytes),
  };
}

function globToRegExp(segment: string): RegExp {
  const escaped = segment.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}

/**
 * Resolve a path whose segments may contain `*` (the NFS mount directory is an md5 hash) by listing
 * directories. Returns the first existing match in name order, or undefined.
 */
export async function resolveGlob(path: string): Promise<string | undefined> {
  const parts = path.split('/');
  let candidates = [path.startsWith('/') ? '/' : '.'];
  for (const [i, part] of parts.entries()) {
    if (part === '' && i === 0) continue;
    if (!part.includes('*')) {
      candidates = candidates.map((c) => join(c, part));
      continue;
    }
    const re = globToRegExp(part);
    const next: string[] = [];
    for (const dir of candidates) {
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names.sort()) if (re.test(name)) next.push(join(dir, name));
    }
    candidates = next;
  }
  for (const c of candidates) if (await stat(c).then(() => true, () => false)) return c;
  return undefined;
}

/** Substitute, then resolve `*`; throws a reason fit for backup_status when nothing exists. */
export async function resolveTemplate(template: string, vars: TemplateVars): Promise<string> {
  const path = substitute(template, vars);
  const found = path.includes('*') ? await resolveGlob(path) : path;
  if (found === undefined) throw new Error(`no file matches ${path}`);
  return found;
}
