import http, { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createUpstreamAgent, FREE_SOCKET_IDLE_MS, keepAliveHintSeconds } from '../../src/cinder/agent.js';
import { listen } from '../helpers/servers.js';

const HEADERS_GETTER = Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'headers')!.get!;

/** A server whose answers carry Node's `Keep-Alive: timeout=<keepAliveMs / 1000>`, and our agent for it. */
async function serverAndAgent(keepAliveMs: number): Promise<{ url: string; agent: http.Agent; connections: () => number }> {
  let connections = 0;
  const server = http.createServer((_req, res) => res.end('ok'));
  server.on('connection', () => { connections++; });
  server.keepAliveTimeout = keepAliveMs;
  const { url } = await listen(server);
  onTestFinished(() => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }));
  const agent = createUpstreamAgent(new URL(url), { maxSockets: 4, connectTimeoutMs: 2000 });
  onTestFinished(() => agent.destroy());
  return { url, agent, connections: () => connections };
}

/** One GET; resolves once the agent took the socket back, telling whether the answer's header object was built. */
function get(url: string, agent: http.Agent): Promise<{ socket: Socket; reused: boolean; headersBuilt: boolean; keepAlive?: string }> {
  return new Promise((resolve, reject) => {
    let headersBuilt = false;
    let keepAlive: string | undefined;
    const req = http.get(url, { agent }, (res) => {
      const at = res.rawHeaders.findIndex((h, i) => i % 2 === 0 && h.toLowerCase() === 'keep-alive');
      keepAlive = at === -1 ? undefined : res.rawHeaders[at + 1];
      Object.defineProperty(res, 'headers', { configurable: true, get() { headersBuilt = true; return HEADERS_GETTER.call(res); } });
      res.resume();
    });
    req.on('error', reject);
    req.on('close', () => setImmediate(() => resolve({ socket: req.socket as Socket, reused: req.reusedSocket, headersBuilt, keepAlive })));
  });
}

describe('keepAliveHintSeconds', () => {
  it('reads the first Keep-Alive header of any case, as Node reads headers["keep-alive"]', () => {
    expect(keepAliveHintSeconds(['Content-Type', 'text/plain', 'Keep-Alive', 'timeout=5, max=100'])).toBe(5);
    expect(keepAliveHintSeconds(['keep-alive', 'timeout=30', 'Keep-Alive', 'timeout=1'])).toBe(30);
    expect(keepAliveHintSeconds(['KEEP-ALIVE', 'max=100, timeout=5'])).toBeUndefined();
    expect(keepAliveHintSeconds(['Connection', 'keep-alive'])).toBeUndefined();
    expect(keepAliveHintSeconds([])).toBeUndefined();
  });
});

describe('the upstream agent keeps sockets by the server\'s keep-alive hint', () => {
  it('a hint above the idle limit: the idle limit, the socket reused, the answer\'s header object never built', async () => {
    const { url, agent, connections } = await serverAndAgent(10_000);
    const first = await get(url, agent);
    expect(first.keepAlive).toBe('timeout=10');
    expect(first.socket.timeout).toBe(FREE_SOCKET_IDLE_MS);
    expect(first.headersBuilt).toBe(false);
    expect((await get(url, agent)).reused).toBe(true);
    expect(connections()).toBe(1);
  });

  it('a hint below it: the socket is dropped a second before the server would drop it', async () => {
    const { url, agent } = await serverAndAgent(3_000);
    const first = await get(url, agent);
    expect(first.keepAlive).toBe('timeout=3');
    expect(first.socket.timeout).toBe(2_000);
    expect((await get(url, agent)).reused).toBe(true);
  });

  it('a hint that leaves no time: the socket is not kept', async () => {
    const { url, agent, connections } = await serverAndAgent(1_000);
    expect((await get(url, agent)).keepAlive).toBe('timeout=1');
    expect((await get(url, agent)).reused).toBe(false);
    expect(connections()).toBe(2);
  });
});
