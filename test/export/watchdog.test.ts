import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { stallWatchdog } from '../../src/export/watchdog.js';

// time is the subject: the clock and the interval timer are vitest's, moved on by the test
beforeEach(() => { vi.useFakeTimers(); });
afterEach(() => { vi.useRealTimers(); });

describe('stallWatchdog', () => {
  it('stays quiet while touched and fires once, within one check of the limit, when data stops moving', () => {
    const fired: number[] = [];
    const dog = stallWatchdog(600, (idle) => fired.push(idle));
    for (let i = 0; i < 12; i++) { vi.advanceTimersByTime(60); dog.touch(); }
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(590);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(600);
    expect(fired).toHaveLength(1);
    // checked every timeoutMs / 4
    expect(fired[0]).toBeGreaterThanOrEqual(600);
    expect(fired[0]).toBeLessThanOrEqual(750);
    vi.advanceTimersByTime(10_000);
    expect(fired).toHaveLength(1);
    dog.stop();
  });

  it('never fires when switched off (0) or stopped', () => {
    const fired: number[] = [];
    stallWatchdog(0, (idle) => fired.push(idle));
    stallWatchdog(50, (idle) => fired.push(idle)).stop();
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual([]);
  });
});
