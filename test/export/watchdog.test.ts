import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { stallWatchdog } from '../../src/export/watchdog.js';

describe('stallWatchdog', () => {
  it('stays quiet while touched and fires once when data stops moving', async () => {
    const fired: number[] = [];
    const dog = stallWatchdog(600, (idle) => fired.push(idle));
    for (let i = 0; i < 12; i++) { await sleep(60); dog.touch(); }
    expect(fired).toEqual([]);
    await sleep(1200);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(600);
    dog.stop();
  });

  it('never fires when switched off (0) or stopped', async () => {
    const fired: number[] = [];
    stallWatchdog(0, (idle) => fired.push(idle));
    stallWatchdog(50, (idle) => fired.push(idle)).stop();
    await sleep(150);
    expect(fired).toEqual([]);
  });
});
