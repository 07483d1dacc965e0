import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { httpCall, httpGet } from './procs.js';

const AUTH = { 'X-Auth-Token': 'bench' };

/**
 * Export a volume the way a client does: the export action through the proxy's API, then polling
 * `wrs-volume:backup_status` until it says completed or failed. Resolves with the last status.
 */
export async function exportThroughApi(proxyUrl: string, project: string, id: string, timeoutMs = 30 * 60_000): Promise<string> {
  const volumeUrl = `${proxyUrl}/v3/${project}/volumes/${id}`;
  const accepted = await httpCall('POST', `${volumeUrl}/action`, AUTH, JSON.stringify({ 'wrs-volume:os-volume_export': null }));
  if (accepted.status !== 202) throw new Error(`export action answered ${accepted.status}: ${accepted.body.slice(0, 300)}`);
  let status = '';
  const deadline = Date.now() + timeoutMs;
  while (!/^Export (completed|failed)/.test(status)) {
    if (Date.now() > deadline) throw new Error(`export did not finish; last backup_status "${status}"`);
    await new Promise((r) => setTimeout(r, 200));
    const res = await httpGet(volumeUrl, AUTH);
    status = String((JSON.parse(res.body) as { volume?: Record<string, unknown> }).volume?.['wrs-volume:backup_status'] ?? '');
  }
  return status;
}

/** Remove the archives an export of `id` left in `exportDir`; their total size in bytes. */
export function removeArchives(exportDir: string, id: string): number {
  const archives = readdirSync(exportDir).filter((f) => f.startsWith(`volume-${id}-`));
  const bytes = archives.reduce((sum, f) => sum + statSync(join(exportDir, f)).size, 0);
  for (const f of archives) rmSync(join(exportDir, f), { force: true });
  return bytes;
}
