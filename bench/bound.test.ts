import { describe, expect, it } from 'vitest';
import { packingBound, requestsLowerBound } from './bound.ts';

/** A real schedule: longest first, each onto the least loaded server. */
function longestFirst(durations: number[], slots: number): number {
  const loads = new Array<number>(slots).fill(0);
  for (const d of [...durations].sort((a, b) => b - a)) loads[loads.indexOf(Math.min(...loads))]! += d;
  return Math.max(...loads);
}

describe('packingBound', () => {
  it('is what no packing beats: the even split, the longest request, two of the slots+1 longest together', () => {
    // The best packing is 6 (3+3, 2+2+2), the even split.
    expect(packingBound([3, 3, 2, 2, 2], 2)).toBe(6);
    // The even split (5.5) is not reachable: a request is not cut, and two of the three share a server.
    expect(packingBound([4, 4, 3], 2)).toBe(7);
    // Three equal requests on three servers: one each.
    expect(packingBound([5, 5, 5], 3)).toBe(5);
    // Four on three: two share a server, whatever the split says.
    expect(packingBound([5, 5, 5, 5], 3)).toBe(10);
    expect(packingBound([9, 1, 1], 3)).toBe(9);
    expect(packingBound([], 3)).toBe(0);
  });

  it('never exceeds a real schedule of the same requests', () => {
    const many = Array.from({ length: 40 }, (_, i) => 1 + ((i * 7919) % 97) / 100);
    for (const slots of [1, 2, 3, 5]) {
      expect(packingBound(many, slots)).toBeLessThanOrEqual(longestFirst(many, slots));
      expect(packingBound(many, slots)).toBeGreaterThanOrEqual(many.reduce((n, d) => n + d, 0) / slots - 1e-9);
    }
  });
});

describe('requestsLowerBound', () => {
  it('is the longest store when its requests, one after another, outlast the packing', () => {
    const byStore = new Map([
      ['tienda_11', [4, 4, 4]],
      ['tienda_01', [1]],
      ['tienda_02', [1]],
    ]);
    expect(requestsLowerBound(byStore, 3)).toBe(12);
  });

  it('is the packing when the stores are short', () => {
    const byStore = new Map(Array.from({ length: 4 }, (_, i) => [`tienda_0${i + 1}`, [5]] as const));
    expect(requestsLowerBound(byStore, 3)).toBe(10);
  });
});
