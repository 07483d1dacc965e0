import { describe, expect, it } from 'vitest';
import { cinderJson } from '../../src/cinder/json.js';
import { rewriteBytes } from '../../src/proxy/answer.js';
import { parseTarget } from '../helpers/target.js';
import { selectRewrites } from '../../src/proxy/rewrites/index.js';
import { JsonBytesError, ResourceScanner, type Member, type ResourceVisitor } from '../../src/proxy/rewrites/json-bytes.js';
import { overlayResources, snapshotOverlay, volumeOverlay } from '../../src/proxy/rewrites/resources.js';
import { ReceivedBytes } from '../../src/proxy/received-bytes.js';
import { AnswerBuffers } from '../../src/proxy/answer-buffers.js';
import type { RewriteContext } from '../../src/proxy/rewrites/types.js';
import type { ResourceOverlay, ResourceType } from '../../src/state/types.js';
import { fixture } from '../helpers/fixtures.js';
import { WRS_EXTENSIONS } from '../helpers/proxy-harness.js';

const NONE: ResourceOverlay = { backupStatus: null, status: null, progress: null };

function context(overlays: Record<string, ResourceOverlay> = {}, extra: Partial<RewriteContext> = {}): RewriteContext {
  return {
    method: 'GET', target: parseTarget('GET', '/v3/0a1b2c/volumes/detail'), translated: false, v2ByTranslation: false, injectBackupStatus: true,
    overlays: async (type: ResourceType, ids: readonly string[]) => new Map(ids.map((id) => [id, overlays[`${type}:${id}`] ?? NONE])),
    extensions: WRS_EXTENSIONS, publicBase: 'http://proxy.example', ...extra,
  };
}

/** What the parsed path gives, written the way a JSON reader sees it (key order included). */
async function parsedPath(type: ResourceType, text: string, ctx: RewriteContext): Promise<string> {
  return JSON.stringify(await overlayResources(type, JSON.parse(text), ctx));
}

/** The splice of the answer fed as the forwarder feeds it, in pieces of `piece` bytes (every token cut somewhere when 1). */
async function splicedInPieces(type: ResourceType, bytes: Buffer, ctx: RewriteContext, piece: number): Promise<Buffer | undefined> {
  const splicer = (type === 'volume' ? volumeOverlay : snapshotOverlay).splicer!(ctx);
  const received = new ReceivedBytes(NaN, new AnswerBuffers(1 << 20));
  for (let at = 0; at < bytes.length; at += piece) {
    received.add(bytes.subarray(at, at + piece));
    splicer.feed(received.bytes());
  }
  return splicer.finish(received.bytes());
}

/** The splice of a whole answer, checked to be what the same answer arriving in pieces gives. */
async function spliced(type: ResourceType, text: string, ctx: RewriteContext): Promise<string | undefined> {
  const bytes = Buffer.from(text);
  const out = (await (type === 'volume' ? volumeOverlay : snapshotOverlay).splicer!(ctx).finish(bytes))?.toString('utf8');
  for (const piece of [1, 7]) expect((await splicedInPieces(type, bytes, ctx, piece))?.toString('utf8'), `${piece}-byte pieces`).toBe(out);
  return out;
}

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AWKWARD_STRINGS = ['', 'plain', 'quote " inside', 'back\\slash', 'tab\tnew\nline', 'unicode é ☃ 😀', '\\"', '{"not": "json"}', 'id', 'status', '\u0000'];

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand();
  if (depth > 2 || r < 0.45) {
    const pick = Math.floor(rand() * 7);
    return [null, true, false, Math.floor(rand() * 1e6) - 5e5, rand() * 1e-3, 1.5e300,
      AWKWARD_STRINGS[Math.floor(rand() * AWKWARD_STRINGS.length)]][pick];
  }
  if (r < 0.7) return Array.from({ length: Math.floor(rand() * 3) }, () => randomValue(rand, depth + 1));
  // nested objects carry keys named like the ones the splice looks for: they must be left alone
  const keys = ['id', 'status', 'wrs-volume:backup_status', 'k', 'links', 'é'];
  return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [keys[Math.floor(rand() * keys.length)]!, randomValue(rand, depth + 1)]));
}

function randomVolume(rand: () => number, i: number): Record<string, unknown> {
  const volume: Record<string, unknown> = {};
  const r = rand();
  if (r < 0.85) volume.id = `vol-${i}`;
  else if (r < 0.9) volume.id = 42; // not a string: left as it is
  if (rand() < 0.8) volume.status = 'available';
  for (let k = 0; k < Math.floor(rand() * 5); k++) volume[`field_${k}`] = randomValue(rand, 1);
  // key order varies: id and status are not always first
  return Object.fromEntries(Object.entries(volume).sort(() => rand() - 0.5));
}

/** JSON text in one of the forms upstreams write: Python's json.dumps, compact, indented. */
function write(rand: () => number, value: unknown): string {
  const form = Math.floor(rand() * 3);
  if (form === 0) return cinderJson(value);
  if (form === 1) return JSON.stringify(value);
  return JSON.stringify(value, null, 1 + Math.floor(rand() * 4));
}

describe('the splice: the overlay on the bytes gives what the parsed path gives', () => {
  const overlays = {
    'volume:094098e3-67cd-4a57-a683-a518cb8020db': { backupStatus: 'Export started at 2026-11-27 03:00:00.123', status: 'exporting', progress: '37%' },
    'snapshot:83dfb006-0751-464b-9eae-96fd15d6e95b': { backupStatus: 'Export completed at 2026-11-27 03:01:00.000', status: null, progress: null },
  };
  const cases: [string, ResourceType][] = [
    ['volumes-detail', 'volume'], ['volume-get', 'volume'], ['volume-create', 'volume'],
    ['snapshots-detail', 'snapshot'], ['snapshot-get', 'snapshot'],
  ];
  for (const [name, type] of cases) {
    for (const injectBackupStatus of [true, false]) {
      it(`${name} recorded from Cinder, backup_status ${injectBackupStatus ? 'on' : 'off'}`, async () => {
        const text = fixture(name).body.toString('utf8');
        const ctx = context(overlays, { injectBackupStatus });
        const out = await spliced(type, text, ctx);
        expect(out).toBeDefined();
        expect(JSON.stringify(JSON.parse(out!))).toBe(await parsedPath(type, text, ctx));
      });
    }
  }

  it("keeps Cinder's own bytes around the change (its json.dumps style stays)", async () => {
    const text = cinderJson({ volumes: [{ id: 'a', status: 'available', size: 1e21, name: 'x\u00e9' }, { id: 'b', metadata: {} }] });
    const ctx = context({ 'volume:a': { backupStatus: 'Export started', status: 'exporting', progress: '5%' } });
    expect(await spliced('volume', text, ctx)).toBe(
      '{"volumes": [{"id": "a", "status": "exporting", "size": 1e+21, "name": "x\\u00e9", "wrs-volume:backup_status": "Export started", '
      + '"wrs-volume:backup_progress": "5%"}, {"id": "b", "metadata": {}, "wrs-volume:backup_status": null}]}',
    );
  });

  it('adds status when a resource has none and the job sets one; an empty object gets no leading comma', async () => {
    const ctx = context({ 'volume:a': { backupStatus: 'Import started', status: 'importing', progress: null } });
    const text = '{"volume": {"id": "a"}}';
    expect(await spliced('volume', text, ctx)).toBe('{"volume": {"id": "a", "status": "importing", "wrs-volume:backup_status": "Import started"}}');
    expect(await spliced('volume', '{"volumes": [{}, {"id": "a"}]}', context())).toBe('{"volumes": [{}, {"id": "a", "wrs-volume:backup_status": null}]}');
  });

  it('volumes sharing one overlay object each get it right, with and without a status member of their own', async () => {
    const shared: ResourceOverlay = { backupStatus: 'Export started', status: 'exporting', progress: '5%' };
    const ctx = context({ 'volume:a': shared, 'volume:b': shared, 'volume:c': shared, 'volume:d': shared });
    const text = cinderJson({ volumes: [{ id: 'a', status: 'available' }, { id: 'b' }, { id: 'c', status: 'in-use' }, { id: 'd' }, { id: 'e' }] });
    const out = await spliced('volume', text, ctx);
    expect(JSON.stringify(JSON.parse(out!))).toBe(await parsedPath('volume', text, ctx));
    expect(JSON.parse(out!).volumes.map((v: { status?: string }) => v.status)).toEqual(['exporting', 'exporting', 'exporting', 'exporting', undefined]);
  });

  it('one overlay object seen by a volume and by a snapshot answer: each gets its own type\'s members, answer after answer', async () => {
    const shared: ResourceOverlay = { backupStatus: 'Export started', status: null, progress: '5%' };
    const ctx = context({ 'volume:a': shared, 'snapshot:a': shared });
    for (let round = 0; round < 2; round++) {
      expect(await spliced('volume', '{"volume": {"id": "a"}}', ctx)).toBe('{"volume": {"id": "a", "wrs-volume:backup_status": "Export started", "wrs-volume:backup_progress": "5%"}}');
      expect(await spliced('snapshot', '{"snapshot": {"id": "a"}}', ctx)).toBe('{"snapshot": {"id": "a", "wrs-snapshot:backup_status": "Export started", "wrs-snapshot:backup_progress": "5%"}}');
      // the shared "no state" overlay too
      expect(await spliced('snapshot', '{"snapshots": [{"id": "b"}]}', ctx)).toBe('{"snapshots": [{"id": "b", "wrs-snapshot:backup_status": null}]}');
      expect(await spliced('volume', '{"volumes": [{"id": "b"}]}', ctx)).toBe('{"volumes": [{"id": "b", "wrs-volume:backup_status": null}]}');
    }
  });

  it('matches the parsed path on 300 random answers (awkward strings, nesting, key order, formatting)', async () => {
    const rand = prng(20261127);
    for (let n = 0; n < 300; n++) {
      const volumes = Array.from({ length: Math.floor(rand() * 6) }, (_, i) => randomVolume(rand, i));
      const body: Record<string, unknown> = rand() < 0.8 ? { volumes } : { volume: volumes[0] ?? {} };
      if (rand() < 0.3) body.volumes_links = [{ rel: 'next', href: 'http://x/v3/p/volumes/detail?marker=1' }];
      if (rand() < 0.2) body.count = volumes.length;
      const overlays: Record<string, ResourceOverlay> = {};
      for (let i = 0; i < volumes.length; i++) {
        if (rand() < 0.4) overlays[`volume:vol-${i}`] = { backupStatus: `Export started ${i}`, status: rand() < 0.5 ? 'exporting' : null, progress: rand() < 0.5 ? `${i}%` : null };
      }
      const ctx = context(overlays, { injectBackupStatus: rand() < 0.8 });
      const text = write(rand, body);
      const out = await spliced('volume', text, ctx);
      expect(out, text).toBeDefined();
      expect(JSON.stringify(JSON.parse(out!)), text).toBe(await parsedPath('volume', text, ctx));
    }
  });
});

describe('the splice: where it could differ from the parsed path it declines', () => {
  const cases: [string, string][] = [
    ['the list key twice (JSON.parse keeps the last)', '{"volumes": [{"id": "a"}], "volumes": [{"id": "b"}]}'],
    ['a resource with two ids', '{"volumes": [{"id": "a", "id": "b"}]}'],
    ['a resource with two statuses', '{"volume": {"id": "a", "status": "x", "status": "y"}}'],
    ['a member it would add already there', '{"volume": {"id": "a", "wrs-volume:backup_status": "x"}}'],
    ['an escaped key that means one it adds', '{"volume": {"id": "a", "wrs-volume:backup\\u005fstatus": "x"}}'],
    ['truncated', '{"volumes": [{"id": "a"}'],
    ['a trailing comma', '{"volumes": [{"id": "a"},]}'],
    ['mismatched brackets', '{"volumes": [{"id": "a"}}}'],
    ['an unknown literal', '{"volumes": [{"id": "a", "x": nul}]}'],
    ['bytes after the end', '{"volumes": []} x'],
    ['a missing colon', '{"volumes" []}'],
    ['a missing comma', '{"volume": {"id": "a" "size": 1}}'],
    ['an array at the top', '[{"id": "a"}]'],
    ['a string at the top', '"volumes"'],
    ['nothing', ''],
    ['an id with an escape JSON.parse refuses', '{"volume": {"id": "a\\x"}}'],
  ];
  for (const [what, text] of cases) {
    it(what, async () => { expect(await spliced('volume', text, context())).toBeUndefined(); });
  }

  it('reads escaped keys and ids as JSON does', async () => {
    const ctx = context({ 'volume:a"b': { backupStatus: 'Export started', status: 'exporting', progress: null } });
    const text = '{"vol\\u0075mes": [{"\\u0069d": "a\\"b", "st\\u0061tus": "available"}]}';
    expect(JSON.stringify(JSON.parse((await spliced('volume', text, ctx))!))).toBe(await parsedPath('volume', text, ctx));
    expect(JSON.parse((await spliced('volume', text, ctx))!).volumes[0].status).toBe('exporting');
  });
});

describe('ResourceScanner', () => {
  const collect = (text: string) => {
    const seen: string[] = [];
    const b = Buffer.from(text);
    const visitor: ResourceVisitor = {
      start: () => seen.push('{'),
      member: (_b: Buffer, m: Member, _key: number) => seen.push(`${b.toString('utf8', m.keyStart, m.keyEnd)}=${b.toString('utf8', m.valueStart, m.valueEnd)}`),
      end: () => seen.push('}'),
    };
    const result = new ResourceScanner({ list: 'volumes', single: 'volume' }, visitor).finish(b);
    return { seen, result };
  };

  it('reports the members of list and single resources, values whole, nothing nested', async () => {
    const { seen, result } = collect('{"x": {"volume": {"id": 1}}, "volumes": [1, {"id": "a", "m": {"id": "n"}, "l": [{"id": 2}]}, [{"id": 3}]], "volume": {"s": true}}');
    expect(seen).toEqual(['{', 'id="a"', 'm={"id": "n"}', 'l=[{"id": 2}]', '}', '{', 's=true', '}']);
    expect(result).toEqual({ lists: 1, singles: 1 });
  });

  it('with keys named, reports only those members (by index) and keys with an escape (to be read), counting all', async () => {
    const b = Buffer.from('{"volumes": [{"size": 1, "id": "a", "st\\u0061tus": "x", "s": 2, "status": "y", "i": 3, "\\u0069d": "b", "idx": 4}]}');
    const seen: string[] = [];
    new ResourceScanner({ list: 'volumes', single: 'volume', keys: ['id', 'status'] }, {
      start: () => {},
      member: (_b, m, key) => seen.push(`${b.toString('utf8', m.keyStart, m.keyEnd)}:${key}`),
      end: (_close, members) => seen.push(`members ${members}`),
    }).finish(b);
    expect(seen).toEqual(['id:0', 'st\\u0061tus:-1', 'status:1', '\\u0069d:-1', 'members 8']);
  });

  it('never refuses what JSON.parse accepts (random mutations of valid answers)', async () => {
    const rand = prng(7);
    let accepted = 0;
    for (let n = 0; n < 2000; n++) {
      const text = write(rand, { volumes: [randomVolume(rand, n)], other: randomValue(rand, 0) });
      const at = Math.floor(rand() * text.length);
      const mutated = rand() < 0.5 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + '{}[],:"0 n'[Math.floor(rand() * 10)] + text.slice(at);
      let valid: boolean;
      try { valid = typeof JSON.parse(mutated) === 'object' && !Array.isArray(JSON.parse(mutated)) && JSON.parse(mutated) !== null; } catch { valid = false; }
      if (!valid) continue;
      accepted++;
      expect(() => collect(mutated), mutated).not.toThrow();
    }
    expect(accepted).toBeGreaterThan(100);
  });

  it('throws JsonBytesError on broken structure', async () => {
    for (const text of ['{', '{"a" 1}', '{"a": 1,}', '{"a": [1 2]}', '{"a": tru}', '{]', '{"a": 1}}', '{"a": "x}']) {
      expect(() => collect(text), text).toThrow(JsonBytesError);
    }
  });
});

describe('rewriteBytes', () => {
  it('splices when the overlay is the only rewrite, parses when links must change too (v2 by translation)', async () => {
    const text = '{"volumes": [{"id": "a", "links": [{"rel": "self", "href": "http://c/v3/p/volumes/a"}]}]}';
    const v3 = context();
    const v3Rewrites = selectRewrites(v3);
    expect(v3Rewrites.map((r) => r.name)).toEqual(['volume-overlay']);
    // the splice keeps the upstream's compact form; the parsed path writes Cinder's style
    expect((await rewriteBytes(Buffer.from(text), v3Rewrites, v3)).toString()).toBe(
      '{"volumes": [{"id": "a", "links": [{"rel": "self", "href": "http://c/v3/p/volumes/a"}], "wrs-volume:backup_status": null}]}',
    );
    const v2 = context({}, { target: parseTarget('GET', '/v2/0a1b2c/volumes/detail'), translated: true, v2ByTranslation: true });
    const v2Rewrites = selectRewrites(v2);
    expect(v2Rewrites.map((r) => r.name)).toEqual(['v2-links', 'volume-overlay']);
    expect(JSON.parse((await rewriteBytes(Buffer.from(text), v2Rewrites, v2)).toString())).toEqual({
      volumes: [{ id: 'a', links: [{ rel: 'self', href: 'http://c/v2/p/volumes/a' }], 'wrs-volume:backup_status': null }],
    });
  });

  it('answers at once, reading nothing, when every overlay is cached; reads them all when one is not', async () => {
    const held: ResourceOverlay = { backupStatus: 'Export started', status: 'exporting', progress: '5%' };
    const cache = new Map([['a', held]]);
    const reads: string[][] = [];
    const ctx = context({ 'volume:a': held }, {
      overlays: async (_type, ids) => { reads.push([...ids]); return new Map(ids.map((id) => [id, cache.get(id) ?? NONE])); },
      cachedOverlays: (_type, ids) => (ids.every((id) => cache.has(id)) ? new Map(ids.map((id) => [id, cache.get(id)!])) : undefined),
    });
    const rewrites = selectRewrites(ctx);
    const cached = rewriteBytes(Buffer.from('{"volumes": [{"id": "a", "status": "available"}]}'), rewrites, ctx);
    expect(cached).toBeInstanceOf(Buffer);
    expect(cached.toString()).toBe('{"volumes": [{"id": "a", "status": "exporting", "wrs-volume:backup_status": "Export started", "wrs-volume:backup_progress": "5%"}]}');
    expect(reads).toEqual([]);
    const read = rewriteBytes(Buffer.from('{"volumes": [{"id": "a"}, {"id": "b"}]}'), rewrites, ctx);
    expect(read).toBeInstanceOf(Promise);
    expect((await read).toString()).toBe('{"volumes": [{"id": "a", "status": "exporting", "wrs-volume:backup_status": "Export started", '
      + '"wrs-volume:backup_progress": "5%"}, {"id": "b", "wrs-volume:backup_status": null}]}');
    expect(reads).toEqual([['a', 'b']]);
  });

  it('falls back to the parsed path where the splice declines, and throws on an answer that is not JSON', async () => {
    const ctx = context();
    const rewrites = selectRewrites(ctx);
    const twice = '{"volumes": [{"id": "a"}], "volumes": [{"id": "b"}]}';
    expect(JSON.parse((await rewriteBytes(Buffer.from(twice), rewrites, ctx)).toString())).toEqual({ volumes: [{ id: 'b', 'wrs-volume:backup_status': null }] });
    await expect(rewriteBytes(Buffer.from('{"volumes": ['), rewrites, ctx)).rejects.toThrow(SyntaxError);
  });
});
