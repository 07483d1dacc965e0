import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './paths.js';

export interface Recorded { status: number; headers: Record<string, string>; body: Buffer }

/** Headers the server recomputes (length) or that would go stale (date). */
const DROP = new Set(['content-length', 'date', 'connection', 'transfer-encoding']);

/** A recorded Cinder answer from test/fixtures/cinder: NAME.headers (status line + headers) and NAME.json. */
export function recorded(name: string): Recorded {
  const dir = join(projectRoot, 'test', 'fixtures', 'cinder');
  const lines = readFileSync(join(dir, `${name}.headers`), 'utf8').split(/\r?\n/).filter(Boolean);
  const status = Number(/^HTTP\/\S+ (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 200);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim();
    if (!DROP.has(key.toLowerCase())) headers[key] = line.slice(at + 1).trim();
  }
  return { status, headers, body: readFileSync(join(dir, `${name}.json`)) };
}

type Volume = Record<string, unknown>;

function templateVolume(): Volume {
  const doc = JSON.parse(recorded('volumes-detail').body.toString('utf8')) as { volumes: Volume[] };
  if (!doc.volumes[0]) throw new Error('volumes-detail fixture has no volume');
  return doc.volumes[0];
}

/** A volumes/detail answer with `count` distinct volumes cloned from the recorded one (compact, as Cinder sends). */
export function bigDetailBody(count: number, projectId: string): Buffer {
  const base = templateVolume();
  const volumes = Array.from({ length: count }, (_, i) => {
    const id = randomUUID();
    const links = [
      { rel: 'self', href: `http://127.0.0.1:8776/v3/${projectId}/volumes/${id}` },
      { rel: 'bookmark', href: `http://127.0.0.1:8776/${projectId}/volumes/${id}` },
    ];
    return { ...base, id, name: `bench-vol-${i}`, links, 'os-vol-tenant-attr:tenant_id': projectId };
  });
  return Buffer.from(JSON.stringify({ volumes }));
}

/** `GET /volumes/{id}` answer for a volume of the given size on the given host, status available. */
export function volumeBody(id: string, sizeGiB: number, host: string): Buffer {
  const doc = JSON.parse(recorded('volume-get').body.toString('utf8')) as { volume: Volume };
  return Buffer.from(JSON.stringify({ volume: { ...doc.volume, id, size: sizeGiB, status: 'available', 'os-vol-host-attr:host': host } }));
}

/** The volume object the engine's meta document is built from. */
export function volumeObject(id: string, sizeGiB: number, host: string): Volume {
  return (JSON.parse(volumeBody(id, sizeGiB, host).toString('utf8')) as { volume: Volume }).volume;
}
