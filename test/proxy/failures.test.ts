import net from 'node:net';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { armConnectTimeout, CONNECT_TIMEOUT_CODE, FREE_SOCKET_IDLE_MS } from '../../src/cinder/agent.js';
import { flakyKeepAlive, startFakeCinder } from '../helpers/fake-cinder.js';
import { sendFixture } from '../helpers/fixtures.js';
import { request } from '../helpers/http.js';
import { startProxy } from '../helpers/proxy-harness.js';
import { testConfig } from '../helpers/servers.js';

const P = 'e0b8c1a2d3f44f6b9a7c5d2e1f0a9b8c';

/** A loopback port nobody listens on. */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback port whose accept queue is full, so new connects are never answered (a blackhole):
 * a listener with backlog 0 that never accepts, plus one connection occupying the queue.
 */
async function blackholePort(): Promise<number> {
  const py = spawn('python3', ['-c',
    'import socket,time\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(120)']);
  onTestFinished(() => { py.kill(); });
  const port = await new Promise<number>((resolve, reject) => {
    py.once('error', reject);
    py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  const filler = net.connect(port, '127.0.0.1');
  onTestFinished(() => { filler.destroy(); });
  await new Promise<void>((resolve, reject) => { filler.once('connect', resolve); filler.once('error', reject); });
  return port;
}

function expectFault(answer: { status: number; headers: Record<string, unknown>; json(): any }, status: number, name: string, requestId: string) {
  expect(answer.status).toBe(status);
  expect(answer.headers['x-openstack-request-id']).toBe(requestId);
  expect(answer.headers['content-type']).toBe('application/json');
  const body = answer.json();
  expect(Object.keys(body)).toEqual([name]);
  expect(body[name].code).toBe(status);
  expect(typeof body[name].message).toBe('string');
}

describe('upstream failures', () => {
  it('answers 503 serviceUnavailable with the request id when the upstream refuses, and keeps serving', async () => {
    const proxy = await startProxy(testConfig(`http://127.0.0.1:${await refusedPort()}`));
    const first = await request(`${proxy.url}/v3/${P}/volumes`);
    expectFault(first, 503, 'serviceUnavailable', proxy.requestIds[0]!);
    expect(first.json().serviceUnavailable.message).toBe('The block storage service is unavailable: connection refused');
    const second = await request(`${proxy.url}/v3/${P}/volumes/detail`, { method: 'POST', body: 'x'.repeat(1000) });
    expectFault(second, 503, 'serviceUnavailable', proxy.requestIds[1]!);
  });

  it('answers 503 when the connect is never answered (blackhole), bounded by connectTimeoutMs', async () => {
    const port = await blackholePort();
    const proxy = await startProxy(testConfig(`http://127.0.0.1:${port}`, { connectTimeoutMs: 300, timeoutMs: 60_000 }));
    const answer = await request(`${proxy.url}/v3/${P}/volumes`);
    expectFault(answer, 503, 'serviceUnavailable', proxy.requestIds[0]!);
    expect(answer.json().serviceUnavailable.message).toContain('connect timed out');
  });

  it('answers 504 when the upstream does not answer in time, and keeps serving', async () => {
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/volumes`]: () => { /* never answers */ },
      [`GET /v3/${P}/types`]: (_req, res) => sendFixture(res, 'types-list'),
    });
    const proxy = await startProxy(testConfig(cinder.url, { timeoutMs: 300 }));
    const asked = Date.now();
    const slow = await request(`${proxy.url}/v3/${P}/volumes`);
    expectFault(slow, 504, 'gatewayTimeout', proxy.requestIds[0]!);
    // the call's own limit, not the idle limit of the agent's spare connections
    expect(Date.now() - asked).toBeLessThan(FREE_SOCKET_IDLE_MS);
    const next = await request(`${proxy.url}/v3/${P}/types`);
    expect(next.status).toBe(200);
    expect(next.json().volume_types).toBeDefined();
  });

  it('answers 504 on a kept-alive upstream connection too, and does not use that connection again', async () => {
    const ports: number[] = [];
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/types`]: (req, res) => { ports.push(req.socket.remotePort!); sendFixture(res, 'types-list'); },
      [`GET /v3/${P}/volumes`]: (req) => { ports.push(req.socket.remotePort!); /* never answers */ },
    });
    const proxy = await startProxy(testConfig(cinder.url, { timeoutMs: 300 }));
    expect((await request(`${proxy.url}/v3/${P}/types`)).status).toBe(200);
    const asked = Date.now();
    const slow = await request(`${proxy.url}/v3/${P}/volumes`);
    expectFault(slow, 504, 'gatewayTimeout', proxy.requestIds[1]!);
    expect(Date.now() - asked).toBeLessThan(FREE_SOCKET_IDLE_MS);
    expect((await request(`${proxy.url}/v3/${P}/types`)).status).toBe(200);
    // the silent call went over the first call's connection; the call after it needed a new one
    expect(ports[1]).toBe(ports[0]);
    expect(ports[2]).not.toBe(ports[1]);
  });

  it('cuts the caller connection when the upstream fails after the answer started', async () => {
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/backups`]: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 1000 });
        res.write('x'.repeat(100));
        setTimeout(() => res.socket?.destroy(), 50);
      },
    });
    const proxy = await startProxy(testConfig(cinder.url));
    const outcome = await request(`${proxy.url}/v3/${P}/backups`).then((a) => `answered ${a.status} ${a.body.length}`, (err: Error) => `failed ${err.message}`);
    expect(outcome).toMatch(/^failed/);
  });

  it('cuts the caller connection and lets go of the upstream when an answer goes silent for timeoutMs mid-body', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((resolve) => { upstreamClosed = resolve; });
    const cinder = await startFakeCinder({
      [`GET /v3/${P}/backups`]: (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': 1000 });
        res.write('x'.repeat(100));
        // then nothing more, and the connection stays open
        res.once('close', () => upstreamClosed());
      },
    });
    const proxy = await startProxy(testConfig(cinder.url, { timeoutMs: 300 }));
    const outcome = await request(`${proxy.url}/v3/${P}/backups`).then((a) => `answered ${a.status} ${a.body.length}`, (err: Error) => `failed ${err.message}`);
    expect(outcome).toMatch(/^failed/);
    await closed;
  });
});

describe('stale keep-alive connections', () => {
  it('sends an idempotent request again on a fresh connection', async () => {
    const upstream = await flakyKeepAlive();
    const proxy = await startProxy(testConfig(upstream.url));
    expect((await request(`${proxy.url}/v3/${P}/types`)).status).toBe(200);
    const second = await request(`${proxy.url}/v3/${P}/volumes`);
    expect(second.status).toBe(200);
    expect(upstream.seen).toEqual([`GET /v3/${P}/types`, `GET /v3/${P}/volumes`]);
  });

  it('never sends a streamed POST twice', async () => {
    const upstream = await flakyKeepAlive();
    const proxy = await startProxy(testConfig(upstream.url));
    expect((await request(`${proxy.url}/v3/${P}/types`)).status).toBe(200);
    const post = await request(`${proxy.url}/v3/${P}/volumes`, { method: 'POST', body: '{"volume": {"size": 1}}' });
    expectFault(post, 503, 'serviceUnavailable', proxy.requestIds[1]!);
    expect(upstream.seen).toEqual([`GET /v3/${P}/types`]);
  });
});

describe('armConnectTimeout', () => {
  class FakeSocket extends EventEmitter {
    connecting = true;
    destroyedWith: Error | undefined;
    destroy(err?: Error) { this.destroyedWith = err; return this; }
  }

  it('destroys a socket that does not connect in time with the connect-timeout code', async () => {
    const socket = new FakeSocket();
    armConnectTimeout(socket as unknown as Duplex, 20);
    await new Promise((r) => setTimeout(r, 60));
    expect((socket.destroyedWith as { code?: string } | undefined)?.code).toBe(CONNECT_TIMEOUT_CODE);
  });

  it('leaves a socket alone once it connected', async () => {
    const socket = new FakeSocket();
    armConnectTimeout(socket as unknown as Duplex, 20);
    socket.connecting = false;
    socket.emit('connect');
    await new Promise((r) => setTimeout(r, 60));
    expect(socket.destroyedWith).toBeUndefined();
  });
});
