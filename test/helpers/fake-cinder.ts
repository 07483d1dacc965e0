import http, { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import { fixtureJson, sendFixture } from './fixtures.js';
import { closeServer, listen } from './servers.js';

export const PROJECT = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';
export const VOLUME_ID = '094098e3-67cd-4a57-a683-a518cb8020db';
export const SNAPSHOT_ID = '83dfb006-0751-464b-9eae-96fd15d6e95b';
export const TOKEN = `admin:${PROJECT}`;

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A malformed escape (`%ff`) stays as it came, as webob leaves what it cannot decode. */
function decodeOrRaw(path: string): string {
  try { return decodeURIComponent(path); } catch { return path; }
}

/** An answer override: return true when it answered. */
type Override = (req: IncomingMessage, res: ServerResponse, body: Buffer) => boolean;

/**
 * A fake Cinder on loopback: version document, volume/snapshot show and snapshot list from the recorded
 * fixtures (mutable per test), keystone-style 401 without a token, 403 for `forbiddenTokens`, and 202
 * for everything else. Records every request it gets.
 */
export class FakeCinder {
  readonly requests: RecordedRequest[] = [];
  readonly volumes = new Map<string, Record<string, any>>();
  readonly snapshots = new Map<string, Record<string, any>>();
  readonly forbiddenTokens = new Set<string>();
  private readonly overrides: Override[] = [];
  url = '';
  private server: http.Server | undefined;

  constructor() {
    const volume = fixtureJson('volume-get').volume;
    this.volumes.set(volume.id, volume);
  }

  /** Give the volume the fixture snapshot (snapshot-get.json). */
  addSnapshot(): Record<string, any> {
    const snapshot = fixtureJson('snapshot-get').snapshot;
    this.snapshots.set(snapshot.id, snapshot);
    return snapshot;
  }

  override(fn: Override): void { this.overrides.push(fn); }

  /** Requests other than the version probe and the proxy's own GETs, i.e. what was forwarded or checked. */
  requestsTo(method: string, pathPrefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.url.startsWith(pathPrefix));
  }

  /** Listen on 127.0.0.1 port 0; closed when the test finishes. */
  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        this.answer(req, res, body);
      });
    });
    this.server = server;
    this.url = (await listen(server)).url;
    return this;
  }

  /** Stop answering now (an upstream that went away); the test's end closes it anyway. */
  close(): Promise<void> {
    return this.server ? closeServer(this.server) : Promise.resolve();
  }

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body === undefined ? '' : JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length,
      'x-openstack-request-id': 'req-00000000-0000-0000-0000-00000000f4ce', ...headers });
    res.end(bytes);
  }

  private fixture(res: ServerResponse, name: string): void {
    sendFixture(res, name, ['date']);
  }

  private answer(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    for (const o of this.overrides) if (o(req, res, body)) return;
    // a path-only target is read as a path, even `//x` (which `new URL(target, base)` takes for a host)
    let url: URL;
    try { url = new URL(`http://x${req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`}`); } catch {
      this.send(res, 400, { badRequest: { code: 400, message: 'fake: unreadable request target' } });
      return;
    }
    if (req.method === 'GET' && url.pathname === '/') { this.fixture(res, 'versions-root'); return; }
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string') { this.fixture(res, 'ks-error-401'); return; }
    if (this.forbiddenTokens.has(token)) {
      this.send(res, 403, { forbidden: { code: 403, message: "Policy doesn't allow volume:get to be performed." } });
      return;
    }
    // the forms Cinder's router accepts: a project id or none, runs of slashes, a .json suffix
    const path = decodeOrRaw(url.pathname).replace(/\/{2,}/g, '/');
    const m = /^\/v[23](?:\/[0-9a-f-]+)?\/(volumes|snapshots)(?:\/([^/]+?))?(?:\.json)?$/.exec(path);
    // Routes takes the method from the last `_method` of the query string
    const method = url.searchParams.getAll('_method').at(-1)?.toUpperCase() || req.method;
    if (method === 'GET' && m) {
      const kind = m[1]!; const id = m[2];
      const table = kind === 'volumes' ? this.volumes : this.snapshots;
      if (id === undefined || id === 'detail') {
        let list = [...table.values()];
        const volumeId = url.searchParams.get('volume_id');
        if (volumeId !== null) list = list.filter((s) => s.volume_id === volumeId);
        this.send(res, 200, { [kind]: list });
        return;
      }
      // ids compared the way MySQL does (case and trailing spaces ignored)
      const item = table.get(id) ?? table.get(id.replace(/ +$/, '').toLowerCase());
      if (item) { this.send(res, 200, { [kind === 'volumes' ? 'volume' : 'snapshot']: item }); return; }
      const what = kind === 'volumes' ? 'Volume' : 'Snapshot';
      this.send(res, 404, { itemNotFound: { code: 404, message: `${what} ${id} could not be found.` } });
      return;
    }
    this.send(res, 202, undefined);
  }
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

/** A fake upstream answering `METHOD /path` (no query) from a route table; see startFakeCinder. */
export interface RoutedCinder {
  url: string;
  port: number;
  requests: Recorded[];
  /** `METHOD /path` (no query) -> fixture name or handler. */
  routes: Map<string, string | Handler>;
  server: http.Server;
}

/**
 * A fake Cinder answering from a route table with recorded bodies and headers (an unknown route gets
 * the recorded 404), for tests where the answer's exact bytes are the subject. `stream` hands the
 * request to a handler before its body is read. Closed when the test finishes.
 */
export async function startFakeCinder(routes: Record<string, string | Handler> = {}, options: { stream?: boolean } = {}): Promise<RoutedCinder> {
  const requests: Recorded[] = [];
  const table = new Map(Object.entries(routes));
  const server = http.createServer((req, res) => {
    const route = table.get(`${req.method} ${(req.url ?? '/').split('?')[0]}`);
    if (typeof route === 'function' && options.stream) { route(req, res, Buffer.alloc(0)); return; }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      if (typeof route === 'function') route(req, res, body);
      else sendFixture(res, route ?? 'error-404-path');
    });
  });
  const { url, port } = await listen(server);
  return { url, port, requests, routes: table, server };
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
  return { url: (await listen(server)).url, seen };
}
