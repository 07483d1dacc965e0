import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'cinder');

export interface Fixture {
  status: number;
  headers: Record<string, string>;
  /** The body as recorded (pretty-printed JSON for JSON answers). */
  body: Buffer;
}

/** A recorded Cinder answer: NAME.headers (status line + headers) and NAME.json (body). */
export function loadFixture(name: string): Fixture {
  const lines = readFileSync(join(DIR, `${name}.headers`), 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  const status = Number(lines[0]!.split(' ')[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: readFileSync(join(DIR, `${name}.json`)) };
}

/** The parsed JSON body of a fixture (a fresh copy each time). */
export function fixtureJson<T = any>(name: string): T {
  return JSON.parse(loadFixture(name).body.toString('utf8')) as T;
}
