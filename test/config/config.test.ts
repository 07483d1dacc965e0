import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { configPath } from '../../src/main.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir: string;
beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'stx-config-')); });
afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

async function file(text: string): Promise<string> {
  const path = join(dir, 'c.yaml');
  await writeFile(path, text);
  return path;
}

describe('config/default.yaml', () => {
  it('holds every key with the schema default', () => {
    const fromFile = loadConfigFile(join(ROOT, 'config', 'default.yaml'));
    expect(fromFile).toEqual(configSchema.parse({}));
    expect(fromFile).toMatchObject({ listen: { port: 9776 }, upstream: { url: 'http://127.0.0.1:8776' }, dataDir: './data',
      exportDir: '/opt/backups', api: { maxActionBodyBytes: 114688, requireWrsHeader: false } });
  });

  it('documents every key of the schema (written out, not left to defaults)', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const raw = parse(readFileSync(join(ROOT, 'config', 'default.yaml'), 'utf8'));
    const keys = (o: object, prefix = ''): string[] => Object.entries(o).flatMap(([k, v]) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]);
    const expected = keys(configSchema.parse({})).filter((k) => k !== 'defaultBackend');
    expect(keys(raw).sort()).toEqual(expected.sort());
  });
});

describe('validation names the bad key', () => {
  it.each([
    ['listen:\n  port: "abc"\n', 'listen.port'],
    ['listen:\n  port: 70000\n', 'listen.port'],
    ['upstream:\n  url: not a url\n', 'upstream.url'],
    ['api:\n  maxActionBodyBytes: -1\n', 'api.maxActionBodyBytes'],
    ['api:\n  requireWrsHeader: "yes"\n', 'api.requireWrsHeader'],
    ['engine:\n  compression: rar\n', 'engine.compression'],
    ['nonsense: 1\n', 'nonsense'],
    ['defaultBackend: nope\n', 'defaultBackend'],
  ])('%j names %s', async (text, key) => {
    const path = await file(text);
    expect(() => loadConfigFile(path)).toThrow(key);
  });

  it('a missing file and bad YAML say so', async () => {
    expect(() => loadConfigFile(join(dir, 'missing.yaml'))).toThrow(/cannot read config file/);
    expect(() => loadConfigFile(join(dir, 'x'))).toThrow();
    const path = await file('listen: [\n');
    expect(() => loadConfigFile(path)).toThrow(/not valid YAML/);
  });
});

describe('environment overrides', () => {
  it('STX_PROXY_PORT/UPSTREAM/EXPORT_DIR/DATA_DIR/LOG_LEVEL win over the file', async () => {
    const path = await file('listen:\n  port: 1000\nexportDir: /a\n');
    const cfg = loadConfigFile(path, {
      STX_PROXY_PORT: '9999', STX_PROXY_UPSTREAM: 'http://cinder:8776', STX_PROXY_EXPORT_DIR: '/b',
      STX_PROXY_DATA_DIR: '/d', STX_PROXY_LOG_LEVEL: 'debug',
    });
    expect(cfg).toMatchObject({ listen: { port: 9999 }, upstream: { url: 'http://cinder:8776' }, exportDir: '/b', dataDir: '/d', log: { level: 'debug' } });
  });

  it('a bad override names the variable or the key', async () => {
    const path = await file('{}\n');
    expect(() => loadConfigFile(path, { STX_PROXY_PORT: 'x' })).toThrow('STX_PROXY_PORT');
    expect(() => loadConfigFile(path, { STX_PROXY_LOG_LEVEL: 'loud' })).toThrow('log.level');
  });
});

describe('config path', () => {
  it('--config wins over STX_PROXY_CONFIG, which wins over config/default.yaml', () => {
    expect(configPath(['--config', '/x.yaml'], { STX_PROXY_CONFIG: '/y.yaml' })).toBe('/x.yaml');
    expect(configPath(['--config=/x.yaml'], {})).toBe('/x.yaml');
    expect(configPath([], { STX_PROXY_CONFIG: '/y.yaml' })).toBe('/y.yaml');
    expect(configPath([], {})).toBe(join(ROOT, 'config', 'default.yaml'));
  });
});

describe('README', () => {
  const readme = () => import('node:fs').then((fs) => fs.readFileSync(join(ROOT, 'README.md'), 'utf8'));

  it('opens with the two commands', async () => {
    expect((await readme()).startsWith('```sh\nnpm ci && npm start\nnpm test\n```\n')).toBe(true);
  });

  it('documents every configuration key and environment override', async () => {
    const text = await readme();
    const keys = (o: object, prefix = ''): string[] => Object.entries(o).flatMap(([k, v]) =>
      v !== null && typeof v === 'object' && !Array.isArray(v) ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]);
    const all = [...keys(configSchema.parse({})), 'defaultBackend'];
    expect(all.filter((k) => !text.includes(`\`${k}\``))).toEqual([]);
    for (const v of ['STX_PROXY_PORT', 'STX_PROXY_UPSTREAM', 'STX_PROXY_EXPORT_DIR', 'STX_PROXY_DATA_DIR', 'STX_PROXY_LOG_LEVEL', 'STX_PROXY_STATE_URL', 'STX_PROXY_REPLICA_ID', 'STX_PROXY_CONFIG', '--config']) {
      expect(text).toContain(v);
    }
  });
});
