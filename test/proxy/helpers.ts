import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import net, { type AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/log.js';

const FIXTURES = new URL('../fixtures/cinder/', import.meta.url);

export interface Fixture {
  status: number;
  statusMessage: string;
  /** Raw header pairs as recorded (Content-Length recomputed for the compact body). */
  headers: Array<[string, string]>;
  body: Buffer;
}

/** A recorded Cinder answer; JSON bodies are sent compact, as Cinder sends them. */
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

export function fixtureJson(name: string): any {
  return JSON.parse(fixture(name).body.toString('utf8'));
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

export interface FakeCinder {
  url: string;
  port: number;
  requests: Recorded[];
  /** `METHOD /path` (no query) -> fixture name or handler. */
  routes: Map<string, string | Handler>;
  server: http.Server;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});
export function onCleanup(fn: () => Promise<void> | void): void {
  cleanups.push(fn);
}

export function sendFixture(res: http.ServerResponse, name: string): void {
  const f = fixture(name);
  res.writeHead(f.status, f.statusMessage, f.headers.flat());
  res.end(f.body);
}

/** A fake Cinder on 127.0.0.1 port 0 answering with recorded bodies and headers; closed after the test. */
export async function startFakeCinder(routes: Record<string, string | Handler> = {}, options: { stream?: boolean } = {}): Promise<FakeCinder> {
  const fake: FakeCinder = { url: '', port: 0, requests: [], routes: new Map(Object.entries(routes)), server: undefined as never };
  const server = http.createServer((req, res) => {
    const key = `${req.method} ${(req.url ?? '/').split('?')[0]}`;
    const route = fake.routes.get(key);
    if (typeof route === 'function' && options.stream) { route(req, res, Buffer.alloc(0)); return; }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      fake.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (typeof route === 'function') route(req, res, body);
      else sendFixture(res, route ?? 'error-404-path');
    });
  });
  fake.server = server;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as AddressInfo).port;
  fake.url = `http://127.0.0.1:${fake.port}`;
  onCleanup(() => closeServer(server));
  return fake;
}

export function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export function testConfig(upstreamUrl: string, upstream: Record<string, unknown> = {}): Config {
  return configSchema.parse({ upstream: { url: upstreamUrl, connectTimeoutMs: 1000, timeoutMs: 5000, ...upstream } });
}

/** A logger that keeps its lines (parsed) for assertions. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: createLogger('debug', sink), lines };
}

export interface Answer {
  status: number;
  statusMessage: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json(): any;
}

/** One request to a server, with a fresh connection. */
export function request(url: string, options: { method?: string; headers?: http.OutgoingHttpHeaders; body?: Buffer | string } = {}): Promise<Answer> {
  const headers: http.OutgoingHttpHeaders = { ...options.headers };
  // node sends a DELETE/OPTIONS body with no length at all unless told
  const hasLength = Object.keys(headers).some((k) => ['content-length', 'transfer-encoding'].includes(k.toLowerCase()));
  if (options.body !== undefined && !hasLength) headers['Content-Length'] = Buffer.byteLength(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, statusMessage: res.statusMessage ?? '', headers: res.headers, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** An upstream that drops a kept-alive connection when it is used a second time (an idle close racing reuse). */
export async function flakyKeepAlive(body = '{}'): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  const server = net.createServer((socket) => {
    let served = 0;
    socket.on('data', (data: Buffer) => {
      if (served === 1) { socket.destroy(); return; }
      served++;
      seen.push(data.toString('latin1').split(' ').slice(0, 2).join(' '));
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
