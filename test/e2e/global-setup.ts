// Brings up the real Cinder (scripts/cinder-dev, keystone mode) with the keystone catalog's volume
// endpoints pointing at the proxy, then starts the proxy as a child process in front of it.
//
// Why one keystone-mode Cinder for (nearly) everything: its admin token covers what noauth gave (every call
// the suite makes as admin, os-reset_status included), and the same Cinder also serves the cases
// that need real tokens (a second project, 401s) and real clients through the catalog; switching
// modes between files would restart cinder-api for nothing. The noauth style is covered by a second
// cinder-api in noauth mode over the same database and services (CINDER_NOAUTH_PORT).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, repoRoot, startProxyChild, stopProxyChild, writeProxyConfig, type ProxyChild } from './proxy-process.js';

export interface E2eContext {
  proxyUrl: string;
  cinderUrl: string;
  /** The same Cinder through a noauth cinder-api (X-Auth-Token admin:<project id>). */
  noauthUrl: string;
  keystoneUrl: string;
  projectId: string;
  altProjectId: string;
  /** Where Cinder's NFS driver keeps volume-<id> files (the bind-mounted folder). */
  volumeDir: string;
  /** Base of the NFS mount points; the proxy's file backend uses <mntBase>/* /volume-{id}. */
  mntBase: string;
  exportDir: string;
  workDir: string;
  proxyLog: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    e2e: E2eContext;
  }
}

function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('export ')) continue;
    for (const m of line.slice(7).matchAll(/([A-Z0-9_]+)=('[^']*'|\S+)/g)) out[m[1]!] = m[2]!.replace(/^'|'$/g, '');
  }
  return out;
}

let proxy: ProxyChild | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = await freePort();
  const env = {
    ...process.env,
    CINDER_AUTH: 'keystone',
    CINDER_PUBLIC_URL: `http://127.0.0.1:${port}/v3/%(project_id)s`,
    // a second cinder-api in noauth mode over the same Cinder, for the noauth-style cases
    CINDER_NOAUTH_PORT: process.env.CINDER_NOAUTH_PORT ?? '8777',
  };
  const script = join(repoRoot, 'scripts/cinder-dev');
  execFileSync('bash', [script, 'up'], { env, stdio: ['ignore', 'inherit', 'inherit'], timeout: 900_000 });
  const cd = parseEnv(execFileSync('bash', [script, 'env'], { env, encoding: 'utf8' }));

  const workDir = mkdtempSync(join(tmpdir(), 'stx-e2e-'));
  const exportDir = join(workDir, 'export');
  mkdirSync(exportDir);
  const configPath = join(workDir, 'proxy.yaml');
  const proxyLog = join(workDir, 'proxy.log');
  writeProxyConfig(configPath, {
    port,
    upstream: cd.CINDER_URL!,
    dataDir: join(workDir, 'data'),
    exportDir,
    volumePath: `${cd.CINDER_MNT_BASE}/*/volume-{id}`,
  });
  proxy = await startProxyChild(configPath, port, proxyLog);

  const ctx: E2eContext = {
    proxyUrl: proxy.url,
    cinderUrl: cd.CINDER_URL!,
    noauthUrl: cd.CINDER_NOAUTH_URL!,
    keystoneUrl: cd.KEYSTONE_URL!,
    projectId: cd.CINDER_PROJECT_ID!,
    altProjectId: cd.CINDER_ALT_PROJECT_ID!,
    volumeDir: cd.CINDER_VOLUME_DIR!,
    mntBase: cd.CINDER_MNT_BASE!,
    exportDir,
    workDir,
    proxyLog,
  };
  for (const [k, v] of Object.entries(ctx)) if (!v) throw new Error(`cinder-dev env gave no value for ${k}`);
  project.provide('e2e', ctx);

  return async () => {
    if (proxy) await stopProxyChild(proxy);
    // E2E_KEEP=1 keeps the proxy log, state and archives for a look after a failure
    if (!process.env.E2E_KEEP) rmSync(workDir, { recursive: true, force: true });
    else console.log(`e2e: kept ${workDir}`);
  };
}
