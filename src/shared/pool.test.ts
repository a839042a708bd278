import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mapPool } from './pool.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapPool', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps at most `limit` in flight and results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const run = mapPool([30, 10, 20, 5, 15], 2, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await tick(ms);
      inFlight--;
      return i * 10;
    });
    await vi.runAllTimersAsync();
    expect(await run).toEqual([0, 10, 20, 30, 40]);
    expect(most).toBe(2);
    await expect(mapPool([], 2, async () => 1)).resolves.toEqual([]);
  });

  it('starts nothing after a failure and throws the first error once the running items have settled', async () => {
    const started: number[] = [];
    const settled: number[] = [];
    const boom = new Error('boom');
    const run = mapPool([0, 1, 2, 3, 4], 2, async (i) => {
      started.push(i);
      if (i === 1) {
        await tick(5);
        throw boom;
      }
      await tick(i === 0 ? 40 : 5);
      settled.push(i);
    });
    let outcome: unknown = null;
    run.catch((error: unknown) => (outcome = error));
    await vi.advanceTimersByTimeAsync(39);
    // Failed at 5 ms; the first item still runs, so the error waits for it.
    expect(outcome).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    await expect(run).rejects.toBe(boom);
    expect(settled).toEqual([0]);
    expect(started).toEqual([0, 1]);
  });
});
