import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FILE = join(ROOT, 'docker-compose.yml');
const COMPOSE = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));

describe('docker-compose.yml', () => {
  it('describes the proxy as a sidecar of cinder-api (shared network, export dir and volume storage mounted)', () => {
    const doc = parse(readFileSync(FILE, 'utf8'));
    const api = doc.services['cinder-api'];
    const proxy = doc.services['stx-cinder-proxy'];
    expect(api).toBeDefined();
    expect(proxy).toBeDefined();
    expect(proxy.networks).toEqual(api.networks);
    expect(proxy.environment.STX_PROXY_UPSTREAM).toBe('http://cinder-api:8776');
    expect(proxy.ports).toContain('9776:9776');
    const mounts: string[] = proxy.volumes;
    expect(mounts.some((m) => m.split(':')[1] === proxy.environment.STX_PROXY_EXPORT_DIR)).toBe(true);
    // the same named volume holds the volume storage in both containers
    const storage = (svc: { volumes: string[] }) => svc.volumes.filter((m) => m.endsWith(':/var/lib/cinder/mnt')).map((m) => m.split(':')[0]);
    expect(storage(proxy)).toEqual(storage(api));
    expect(storage(proxy)).toHaveLength(1);
    for (const m of mounts) {
      const source = m.split(':')[0]!;
      if (!source.startsWith('.') && !source.startsWith('/')) expect(doc.volumes).toHaveProperty(source);
    }
  });

  it('is accepted by docker-compose config (when the binary is installed)', async () => {
    if (!COMPOSE) {
      // the structural check above still ran; nothing more to ask without the tool
      expect(parse(readFileSync(FILE, 'utf8')).services).toBeTypeOf('object');
      return;
    }
    const { stdout } = await promisify(execFile)(COMPOSE, ['-f', FILE, 'config'], { cwd: ROOT });
    const normalized = parse(stdout);
    expect(Object.keys(normalized.services).sort()).toEqual(['cinder-api', 'stx-cinder-proxy']);
  });
});
