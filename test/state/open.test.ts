import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { isSharedState, openStateStore, redactUrl } from '../../src/state/open.js';
import { hostname } from 'node:os';
import { Writable } from 'node:stream';
import { replicaIdOf } from '../../src/config/replica.js';
import { createLogger } from '../../src/log.js';
import { createTestDatabase, startGate, urlFor } from '../helpers/postgres.js';

const dropped: Array<() => Promise<void>> = [];
// in parallel, with time to spare: DROP DATABASE is slow on a loaded machine
afterAll(() => Promise.all(dropped.splice(0).map((drop) => drop())), 300_000);

describe('openStateStore', () => {
  it('a postgres:// URL picks PostgreSQL; unset keeps SQLite in dataDir', () => {
    expect(isSharedState(parseConfig({}))).toBe(false);
    expect(isSharedState(parseConfig({}, { STX_PROXY_STATE_URL: 'postgresql://u:p@db/stx' }))).toBe(true);
    expect(() => parseConfig({ state: { url: 'mysql://db/stx' } })).toThrow(/state\.url: must be a postgres:\/\/ or postgresql:\/\/ URL/);
    expect(replicaIdOf(parseConfig({}, { STX_PROXY_REPLICA_ID: 'ctl-1' }))).toBe('ctl-1');
    expect(replicaIdOf(parseConfig({ listen: { port: 9777 } }))).toBe(`${hostname()}:9777`);
    // any free port: two such replicas on one host must not share an id
    expect(replicaIdOf(parseConfig({ listen: { port: 0 } }), 4242)).toBe(`${hostname()}:0:pid4242`);
    expect(replicaIdOf(parseConfig({ listen: { port: 0 } }), 1)).not.toBe(replicaIdOf(parseConfig({ listen: { port: 0 } }), 2));
    expect(() => parseConfig({ state: { leaseMs: 1000, renewMs: 1000 } })).toThrow(/state\.renewMs: must be shorter than state\.leaseMs/);
    expect(redactUrl('postgres://stx:secret@db:5432/stx?sslmode=require')).toBe('postgres://stx:***@db:5432/stx?sslmode=require');
  });

  it('waits for a database that cannot be reached at start, saying so, and opens it once it answers', async () => {
    const db = await createTestDatabase();
    dropped.push(db.drop);
    const gate = await startGate();
    onTestFinished(() => gate.close());
    gate.down();
    const retries: string[] = [];
    let twice = () => {};
    const retriedTwice = new Promise<void>((resolve) => { twice = resolve; });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
          if ((JSON.parse(line) as { msg?: string }).msg === 'state store unreachable at start, retrying') retries.push(line);
        }
        if (retries.length >= 2) twice();
        done();
      },
    });
    const url = urlFor(db.name, gate.port).replace('postgres@', 'postgres:secret@');
    const opening = openStateStore(parseConfig({ state: { url } }), createLogger('info', sink));
    await retriedTwice;
    expect(retries.join('')).not.toContain('secret');
    gate.up();
    const store = await opening;
    onTestFinished(() => store.close());
    await store.ping();
  });
});
