// Hostile input, measured: thousands of generated requests (fast-check, fixed seed) against a whole
// proxy (real engine and store, src/main.ts) on loopback in front of the fake Cinder, sent on raw
// sockets so that broken framing, odd methods and giant heads reach the server as written.
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { startProxy, type RunningProxy } from '../../src/main.js';
import { makeVolumeFile, MiB } from '../export/helpers.js';
import { FakeCinder, PROJECT, SNAPSHOT_ID, TOKEN, VOLUME_ID } from '../helpers/fake-cinder.js';
import { jsonHeaders, request } from '../helpers/http.js';
import { waitFor } from '../helpers/proxy-child.js';

/** Fixed, so a failure is reproducible; fast-check prints it (and the shrunk request) on failure. */
const SEED = 20261201;
/** The fake's own 5xx carry this header: a 5xx without it is the proxy's own making. */
const UPSTREAM_FAULT = 'x-fake-upstream-fault';

interface Answer { status: number | null; head: string }

/**
 * Write the bytes, read until the server closes (every request says Connection: close): an answer
 * (status) or a bare close (null). A request that may never end (broken framing) is followed by a
 * half-close so the server sees the end of it; a complete one is not (Node's server closes on a
 * client's half-close without answering).
 */
function exchange(port: number, bytes: Buffer, halfClose: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no answer and no close within 20 s for ${JSON.stringify(bytes.subarray(0, 300).toString('latin1'))}`)); }, 20_000);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => { /* a reset is a close */ });
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.slice(0, Math.max(0, text.indexOf('\r\n\r\n'))).toLowerCase();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : null, head });
    });
    if (halfClose) socket.end(bytes); else socket.write(bytes);
  });
}

type Framing = 'length' | 'chunked' | 'none' | 'bad-length' | 'bad-chunked';

function rawRequest(method: string, target: string, headers: Array<[string, string]>, body: Buffer, framing: Framing, badChunk = ''): Buffer {
  const lines = [`${method} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...headers.map(([k, v]) => `${k}: ${v}`)];
  let payload = body;
  if (framing === 'length') lines.push(`Content-Length: ${body.length}`);
  if (framing === 'bad-length') lines.push(`Content-Length: ${badChunk || body.length + 10}`);
  if (framing === 'chunked' || framing === 'bad-chunked') {
    lines.push('Transfer-Encoding: chunked');
    payload = framing === 'chunked'
      ? Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])
      : Buffer.concat([Buffer.from(badChunk), body]);
  }
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), payload]);
}

const VOLUME_ACTIONS = ['wrs-volume:os-volume_export', 'wrs-volume:os-volume_import', 'os-extend', 'os-reset_status',
  'os-attach', 'os-retype', 'os-force_delete', 'os-unmanage', 'os-set_bootable'];
const SNAPSHOT_ACTIONS = ['wrs-snapshot:os-export_snapshot', 'wrs-snapshot:os-snapshot_export', 'os-reset_status', 'os-force_delete'];

const hugeString = fc.integer({ min: 200, max: 70_000 }).map((n) => 'x'.repeat(n));
const nasty = fc.oneof(
  fc.string(), fc.string({ unit: 'binary' }), hugeString, fc.constantFrom('', '.', '..', '../etc/passwd', 'a/b', '\\x', 'a\0b', '\0',
    '%00', 'CON', ' ', 'volume-x.tgz', 'x'.repeat(256), '\u202e', '\ud800'),
);
/** Every JSON type (and some the generator only makes as text) where a file_name or an action value goes. */
const anyValue = fc.oneof(fc.jsonValue(), nasty, fc.record({ file_name: fc.oneof(fc.jsonValue(), nasty) }),
  fc.record({ new_size: fc.oneof(fc.jsonValue(), nasty) }), fc.record({ status: fc.jsonValue() }));

const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);

/** An action body: JSON with wrong types, broken JSON, deep nesting, invalid UTF-8, NUL bytes. */
const actionBody = (actions: string[]) => fc.oneof(
  fc.tuple(fc.constantFrom(...actions), anyValue).map(([k, v]) => Buffer.from(JSON.stringify({ [k]: v }))),
  fc.tuple(fc.constantFrom(...actions), fc.dictionary(fc.string(), anyValue)).map(([k, extra]) => Buffer.from(JSON.stringify({ ...extra, [k]: extra }))),
  fc.tuple(fc.constantFrom(...actions), fc.integer({ min: 1, max: 40_000 })).map(([k, n]) => Buffer.from(`{"${k}": ${deep(n, '[', ']')}}`)),
  fc.tuple(fc.constantFrom(...actions), fc.integer({ min: 1, max: 20_000 })).map(([k, n]) => Buffer.from(`{"${k}": {"file_name": ${deep(n, '{"a":', '}')}}}`)),
  fc.constantFrom(...actions).chain((k) => fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.concat([Buffer.from(`{"${k}": {"file_name": "`), Buffer.from(b), Buffer.from('"}}')]))),
  fc.constantFrom(...actions).map((k) => Buffer.from(`{"${k}": {"file_name": "\xff\xfe\xc0\x80"}}`, 'latin1')),
  fc.constantFrom(...actions).map((k) => Buffer.from(`{"${k}\u0000": null}`)),
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
  fc.string().map((s) => Buffer.from(s)),
  fc.constantFrom('', 'null', '[]', '"x"', '1e999999', '{', '{"a":', '{"os-extend":{"new_size":1e309}}', '{"__proto__":{"x":1}}',
    '{"constructor":{"prototype":{}}}', '\ufeff{}').map((s) => Buffer.from(s)),
);

const id = fc.oneof(fc.constantFrom(VOLUME_ID, SNAPSHOT_ID, 'fail500', 'detail', '', '%00', '%2e%2e', '..', 'a%2Fb', '%ff'),
  fc.uuid(), fc.string({ maxLength: 40 }).map(encodeURIComponent));
const project = fc.constantFrom(PROJECT, '', 'x', '%00', PROJECT.toUpperCase());
const suffix = fc.constantFrom('', '.json', '.xml', '/', '//', '?', '?x=1&x=2', '?%ff', '#frag');

const actionRequest = fc.oneof(
  fc.record({ kind: fc.constant('volumes'), actions: fc.constant(VOLUME_ACTIONS) }),
  fc.record({ kind: fc.constant('snapshots'), actions: fc.constant(SNAPSHOT_ACTIONS) }),
).chain(({ kind, actions }) => fc.record({
  version: fc.constantFrom('v2', 'v3'),
  project, id, suffix,
  body: actionBody(actions),
  framing: fc.constantFrom<Framing>('length', 'length', 'chunked'),
  contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=latin1', ''),
  token: fc.constantFrom(TOKEN, TOKEN, '', 'x'.repeat(300)),
}).map((r) => rawRequest('POST', `/${r.version}/${r.project}/${kind}/${r.id}/action${r.suffix}`,
  [...(r.contentType ? [['Content-Type', r.contentType] as [string, string]] : []), ...(r.token ? [['X-Auth-Token', r.token] as [string, string]] : [])],
  r.body, r.framing)));

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT', 'PROPFIND', 'MKCOL', 'SEARCH', 'FOO', 'get', 'G\0T', ''];
const pathRequest = fc.record({
  method: fc.constantFrom(...METHODS),
  segments: fc.array(fc.oneof(fc.constantFrom('v2', 'v3', PROJECT, 'volumes', 'snapshots', 'attachments', 'detail', 'action',
    'extensions', 'wrs-volume', 'os-volume-transfer', 'healthz', 'metrics', '', '.', '..', '%2e%2e', '%00', '\u00ff'), id), { maxLength: 8 }),
  suffix,
  body: fc.oneof(fc.constant(Buffer.alloc(0)), actionBody(VOLUME_ACTIONS)),
  framing: fc.constantFrom<Framing>('length', 'none', 'chunked'),
  headers: fc.array(fc.tuple(fc.constantFrom('OpenStack-API-Version', 'X-OpenStack-Nova-API-Version', 'Accept', 'wrs-header', 'X-Forwarded-Host',
    'X-Forwarded-Proto', 'Content-Type', 'Accept-Encoding', 'X-Auth-Token'), fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom('volume 3.99999', 'volume latest', 'volume 3.0', 'volume x.y', 'gzip, br', 'https'))), { maxLength: 4 }),
}).map((r) => rawRequest(r.method, `/${r.segments.join('/')}${r.suffix}`,
  [['X-Auth-Token', TOKEN], ...r.headers.map(([k, v]) => [k, v.replace(/[\r\n]/g, ' ')] as [string, string])], r.body, r.framing));

/** Framing a client cannot be trusted with: chunk sizes, lengths, giant heads and URLs. */
const framingRequest = fc.oneof(
  fc.record({ chunk: fc.constantFrom('zz\r\n', 'ffffffffffffffff\r\n', '-1\r\n', '5\r\nab\r\n0\r\n\r\n', '3;ext=1\r\nabc\r\n', '1\r\nab\r\n',
    '0\r\nTrailer: x\r\n\r\n', '\r\n', '4\r\n{"a"\r\n', '100000\r\n{'), body: actionBody(VOLUME_ACTIONS) })
    .map((r) => rawRequest('POST', `/v3/${PROJECT}/volumes/${VOLUME_ID}/action`, [['X-Auth-Token', TOKEN]], r.body, 'bad-chunked', r.chunk)),
  fc.record({ len: fc.constantFrom('-1', 'abc', '1e3', '99999999999999999999', '0x10', ' 5', '5, 6'), body: actionBody(VOLUME_ACTIONS) })
    .map((r) => rawRequest('POST', `/v3/${PROJECT}/volumes/${VOLUME_ID}/action`, [['X-Auth-Token', TOKEN]], r.body, 'bad-length', r.len)),
  fc.integer({ min: 8_000, max: 100_000 }).map((n) => rawRequest('GET', `/v3/${PROJECT}/volumes/${VOLUME_ID}`, [['X-Auth-Token', TOKEN], ['X-Big', 'a'.repeat(n)]], Buffer.alloc(0), 'none')),
  fc.integer({ min: 8_000, max: 100_000 }).map((n) => rawRequest('GET', `/v3/${PROJECT}/volumes/${'a'.repeat(n)}`, [['X-Auth-Token', TOKEN]], Buffer.alloc(0), 'none')),
  fc.integer({ min: 100, max: 3_000 }).map((n) => rawRequest('GET', `/v3/${PROJECT}/volumes/detail`, Array.from({ length: n }, (_, i) => [`X-H${i}`, 'v'] as [string, string]), Buffer.alloc(0), 'none')),
  fc.constantFrom('POST /v3/x/volumes HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n', 'GET /\r\n\r\n', '\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'GET / HTTP/1.1\r\n Folded: x\r\n\r\n',
    'POST /v3/x/volumes/y/action HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n{"os-ext', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03')
    .map((s) => Buffer.from(s, 'latin1')),
);

async function wholeProxy(): Promise<{ proxy: RunningProxy; fake: FakeCinder; exportDir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'stx-hostile-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const fake = await new FakeCinder().start();
  onTestFinished(() => fake.close());
  fake.override((req, res) => {
    if (!req.url?.includes('fail500')) return false;
    res.writeHead(500, { 'content-type': 'application/json', [UPSTREAM_FAULT]: '1' });
    res.end('{"computeFault": {"code": 500, "message": "upstream"}}');
    return true;
  });
  await mkdir(join(dir, 'vols'));
  // small: the exports the generated requests start end quickly (the file backend reads the file's size)
  await makeVolumeFile(join(dir, 'vols', `volume-${VOLUME_ID}`), 4 * MiB, [[0, MiB]]);
  const exportDir = join(dir, 'exports');
  const config = configSchema.parse({
    listen: { host: '127.0.0.1', port: 0 }, upstream: { url: fake.url, connectTimeoutMs: 2000, timeoutMs: 10_000 },
    dataDir: join(dir, 'data'), exportDir, log: { level: 'silent' },
    engine: { minFreeBytes: 0, compression: 'none', shutdownTimeoutMs: 0 },
    backends: [{ name: 'files', type: 'file', volumePath: `${dir}/vols/volume-{id}` }],
  });
  const proxy = await startProxy(config, silentLogger());
  onTestFinished(() => proxy.close());
  return { proxy, fake, exportDir };
}

/** Requests go out this many at a time (a busy 2-core machine still runs a few thousand in seconds). */
const PARALLEL = 16;

/**
 * Send every generated request; each gets an answer or a close, never a 5xx the upstream did not send.
 * `rounds` runs of PARALLEL requests each (fast-check shrinks a failing round to the request that fails).
 */
async function batch(port: number, url: string, arb: fc.Arbitrary<Buffer>, rounds: number, halfClose = false): Promise<Map<number | null, number>> {
  const seen = new Map<number | null, number>();
  const details = await fc.check(fc.asyncProperty(fc.array(arb, { minLength: 1, maxLength: PARALLEL }), async (requests) => {
    const answers = await Promise.all(requests.map((bytes) => exchange(port, bytes, halfClose)));
    answers.forEach((answer, i) => {
      seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
      if (answer.status !== null && answer.status >= 500 && !answer.head.includes(UPSTREAM_FAULT)) {
        throw new Error(`a ${answer.status} of the proxy's own for ${JSON.stringify(requests[i]!.subarray(0, 600).toString('latin1'))}`);
      }
    });
  }), { numRuns: rounds, seed: SEED });
  // the shrunk failure in a few lines (fast-check's own report prints every byte of every request)
  if (details.failed) throw new Error(`seed ${details.seed}, path ${details.counterexamplePath}: ${(details.errorInstance as Error)?.message}`);
  // the process keeps serving
  expect((await request(`${url}/healthz`)).status).toBe(200);
  return seen;
}

describe('hostile input', () => {
  it('thousands of generated requests: every one answered or closed, no 5xx of our own, still serving, then a normal export works', async () => {
    const { proxy, exportDir } = await wholeProxy();
    const seen = new Map<number | null, number>();
    const add = (m: Map<number | null, number>) => { for (const [k, v] of m) seen.set(k, (seen.get(k) ?? 0) + v); };
    add(await batch(proxy.port, proxy.url, actionRequest, 200));
    add(await batch(proxy.port, proxy.url, pathRequest, 120));
    add(await batch(proxy.port, proxy.url, framingRequest, 40, true));
    // the generators reached the handlers, the upstream, the fake's own 5xx and Node's own refusals
    for (const status of [202, 400, 404, 413, 431]) expect(seen.get(status), `no ${status} among ${JSON.stringify([...seen])}`).toBeGreaterThan(0);

    // exports the generated requests started end (the volume is free again), then an ordinary one works
    const volume = async () => (await request(`${proxy.url}/v3/${PROJECT}/volumes/${VOLUME_ID}`, { headers: { 'x-auth-token': TOKEN } })).json().volume;
    await waitFor('the volume to be free', async () => ((await volume()).status === 'available' ? true : undefined));
    const before = new Set(await readdir(exportDir));
    const res = await request(`${proxy.url}/v3/${PROJECT}/volumes/${VOLUME_ID}/action`, {
      method: 'POST', headers: jsonHeaders(TOKEN), body: JSON.stringify({ 'wrs-volume:os-volume_export': {} }),
    });
    expect(res.status).toBe(202);
    const done = await waitFor('the export to finish', async () => {
      const v = await volume();
      return v.status === 'available' && /^Export (completed|failed)/.test(v['wrs-volume:backup_status'] ?? '') ? v : undefined;
    });
    expect(done['wrs-volume:backup_status']).toMatch(/^Export completed at /);
    expect((await readdir(exportDir)).filter((n) => !before.has(n))).toHaveLength(2); // the archive and its .sha256
  }, 120_000); // ~2,700 requests: 10-20 s on an idle 2-core machine, ~45 s at a load average of 24
});
