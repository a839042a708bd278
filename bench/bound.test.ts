import { describe, expect, it } from 'vitest';
import { packedMakespan, requestsLowerBound } from './bound.ts';

describe('packedMakespan', () => {
  it('is the best packing, not the even split nor the greedy one', () => {
    // Longest first onto the least loaded server gives 7 (3+2+2, 3+2); the best packing is 6 (3+3, 2+2+2).
    expect(packedMakespan([3, 3, 2, 2, 2], 2)).toBe(6);
    // The even split (5.5) is not reachable: a request is not cut.
    expect(packedMakespan([4, 4, 3], 2)).toBe(7);
    // Three equal requests on three servers: one each.
    expect(packedMakespan([5, 5, 5], 3)).toBe(5);
    // Four on three: two share a server, whatever the split says.
    expect(packedMakespan([5, 5, 5, 5], 3)).toBe(10);
    expect(packedMakespan([], 3)).toBe(0);
  });

  it('falls back to a bound no packing beats when the search is too big', () => {
    const many = Array.from({ length: 40 }, (_, i) => 1 + ((i * 7919) % 97) / 100);
    const exact = packedMakespan(many, 3);
    const cut = packedMakespan(many, 3, 10);
    expect(cut).toBeLessThanOrEqual(exact);
    expect(cut).toBeGreaterThanOrEqual(many.reduce((n, d) => n + d, 0) / 3 - 1e-9);
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
