import { describe, expect, it } from 'vitest';
import { mapPool } from './pool.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('mapPool', () => {
  it('keeps at most `limit` in flight and results in input order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapPool([30, 10, 20, 5, 15], 2, async (ms, i) => {
      most = Math.max(most, ++inFlight);
      await tick(ms);
      inFlight--;
      return i * 10;
    });
    expect(results).toEqual([0, 10, 20, 30, 40]);
    expect(most).toBe(2);
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
    await expect(run).rejects.toBe(boom);
    expect(settled).toContain(0);
    expect(started).toEqual([0, 1]);
  });
});
