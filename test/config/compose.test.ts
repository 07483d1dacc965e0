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

const REPLICAS_FILE = join(ROOT, 'docker-compose.replicas.yml');
const HAPROXY_CFG = join(ROOT, 'deploy', 'haproxy', 'haproxy.cfg');
const REPLICAS = ['stx-cinder-proxy-a', 'stx-cinder-proxy-b'];
const HAPROXY = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p));

describe('docker-compose.replicas.yml', () => {
  // the replicas share their settings through YAML merge keys, as docker-compose reads them
  const doc = parse(readFileSync(REPLICAS_FILE, 'utf8'), { merge: true });
  const named = (svc: { volumes: string[] }, target: string) => svc.volumes.filter((m) => m.split(':')[1] === target).map((m) => m.split(':')[0]);

  it('has two proxy replicas, PostgreSQL and haproxy next to cinder-api', () => {
    expect(Object.keys(doc.services).sort()).toEqual(['cinder-api', 'haproxy', 'postgres', ...REPLICAS].sort());
    const api = doc.services['cinder-api'];
    for (const name of ['postgres', 'haproxy', ...REPLICAS]) expect(doc.services[name].networks, name).toEqual(api.networks);
    // clients reach the replicas through haproxy only
    expect(doc.services.haproxy.ports).toContain('9776:9776');
    for (const name of REPLICAS) expect(doc.services[name].ports, name).toBeUndefined();
  });

  it('gives both replicas the same database, the same export directory and volume storage, and their own ids', () => {
    const [a, b] = REPLICAS.map((n) => doc.services[n]);
    const url = new URL(a.environment.STX_PROXY_STATE_URL);
    expect(url.protocol).toBe('postgres:');
    expect(url.hostname).toBe('postgres');
    expect(b.environment.STX_PROXY_STATE_URL).toBe(a.environment.STX_PROXY_STATE_URL);
    expect(url.pathname.slice(1)).toBe(doc.services.postgres.environment.POSTGRES_DB);
    expect(a.environment.STX_PROXY_REPLICA_ID).not.toBe(b.environment.STX_PROXY_REPLICA_ID);
    for (const svc of [a, b]) {
      expect(svc.environment.STX_PROXY_UPSTREAM).toBe('http://cinder-api:8776');
      expect(named(svc, svc.environment.STX_PROXY_EXPORT_DIR)).toHaveLength(1);
    }
    expect(named(a, a.environment.STX_PROXY_EXPORT_DIR)).toEqual(named(b, b.environment.STX_PROXY_EXPORT_DIR));
    expect(named(a, '/var/lib/cinder/mnt')).toEqual(named(doc.services['cinder-api'], '/var/lib/cinder/mnt'));
    expect(named(b, '/var/lib/cinder/mnt')).toEqual(named(a, '/var/lib/cinder/mnt'));
    for (const svc of Object.values(doc.services) as Array<{ volumes?: string[] }>) {
      for (const m of svc.volumes ?? []) {
        const source = m.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) expect(doc.volumes).toHaveProperty(source);
      }
    }
  });

  it('mounts a haproxy config that round-robins over both replicas', async () => {
    expect(named(doc.services.haproxy, '/usr/local/etc/haproxy/haproxy.cfg')).toEqual(['./deploy/haproxy/haproxy.cfg']);
    const cfg = readFileSync(HAPROXY_CFG, 'utf8');
    expect(cfg).toMatch(/^\s*balance roundrobin$/m);
    expect(cfg).toMatch(/^\s*bind :9776$/m);
    const servers = [...cfg.matchAll(/^\s*server \S+ (\S+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers.sort()).toEqual(REPLICAS.map((n) => `${n}:9776`));
    if (HAPROXY) {
      // haproxy itself accepts it (the replica names resolve only inside the compose network)
      const { stdout, stderr } = await promisify(execFile)(HAPROXY, ['-c', '-f', HAPROXY_CFG]);
      expect(stdout + stderr).toContain('Configuration file is valid');
    }
  });

  it('is accepted by docker-compose config (when the binary is installed)', async () => {
    if (!COMPOSE) {
      expect(doc.services).toBeTypeOf('object');
      return;
    }
    const { stdout } = await promisify(execFile)(COMPOSE, ['-f', REPLICAS_FILE, 'config'], { cwd: ROOT });
    const normalized = parse(stdout);
    expect(Object.keys(normalized.services).sort()).toEqual(['cinder-api', 'haproxy', 'postgres', ...REPLICAS].sort());
    expect(normalized.services['stx-cinder-proxy-b'].environment.STX_PROXY_STATE_URL)
      .toBe(normalized.services['stx-cinder-proxy-a'].environment.STX_PROXY_STATE_URL);
  });
});
