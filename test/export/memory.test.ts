import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GiB, harness, makeVolumeFile, meta, MiB, newId, runJob, type Harness } from './helpers.js';

let h: Harness | undefined;
afterEach(async () => { await h?.cleanup(); h = undefined; });

describe('memory', () => {
  it('stays flat while exporting a 4 GiB sparse volume (peak RSS growth under 200 MB)', async () => {
    h = await harness();
    const id = newId();
    // data spread over the volume so compression and zero runs both happen
    const parts: Array<[number, number]> = [];
    for (let off = 0; off < 4 * GiB; off += 512 * MiB) parts.push([off, 8 * MiB]);
    await makeVolumeFile(join(h.volDir, `volume-${id}`), 4 * GiB, parts);
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
    try {
      const exp = await runJob(h, 'volume-export', { volumeId: id, meta: meta(id), sizeGiB: 4 });
      expect(exp.error).toBeNull();
    } finally {
      clearInterval(sampler);
    }
    // maxRSS (KiB) is the kernel's own peak, catching spikes between samples
    peak = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    expect(peak - baseline).toBeLessThan(200 * 1024 * 1024);
  }, 180_000);
});
