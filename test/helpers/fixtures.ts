import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';

const FIXTURES = new URL('../fixtures/cinder/', import.meta.url);

export interface Fixture {
  status: number;
  statusMessage: string;
  /** Raw header pairs as recorded (Content-Length recomputed for the compact body). */
  headers: Array<[string, string]>;
  /** JSON bodies compact, as Cinder sends them. */
  body: Buffer;
}

/** A recorded Cinder answer: NAME.headers (status line + headers) and NAME.json (body). */
export function fixture(name: string): Fixture {
  const head = readFileSync(new URL(`${name}.headers`, FIXTURES), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const m = /^HTTP\/1\.1 (\d{3}) ?(.*)$/.exec(head[0]!)!;
  const text = readFileSync(new URL(`${name}.json`, FIXTURES), 'utf8');
  const body = Buffer.from(text.trim() === '' ? '' : JSON.stringify(JSON.parse(text)));
  const headers = head.slice(1).map((l): [string, string] => {
    const at = l.indexOf(':');
    return [l.slice(0, at).trim(), l.slice(at + 1).trim()];
  }).map(([k, v]): [string, string] => (k.toLowerCase() === 'content-length' ? [k, String(body.length)] : [k, v]));
  return { status: Number(m[1]), statusMessage: m[2] ?? '', headers, body };
}

/** The parsed JSON body of a fixture (a fresh copy each time). */
export function fixtureJson<T = any>(name: string): T {
  return JSON.parse(fixture(name).body.toString('utf8')) as T;
}

/** Answer with a fixture; `drop` names headers (lower case) left out, e.g. a recorded Date. */
export function sendFixture(res: ServerResponse, name: string, drop: readonly string[] = []): void {
  const f = fixture(name);
  const headers = f.headers.filter(([k]) => !drop.includes(k.toLowerCase()));
  res.writeHead(f.status, f.statusMessage, headers.flat());
  res.end(f.body);
}
