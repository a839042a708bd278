import { describe, expect, it } from 'vitest';
import { healNotBefore, healSelection, insideHours } from './cycle.ts';

describe('the heal selection', () => {
  const heal = { maxRequestsPerHour: 3, bigAboveStoreDays: 5, bigWindow: '22:00-06:00' };
  const backlog = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('takes the newest store-days up to the budget, one request each', () => {
    expect(healSelection(backlog(5), heal, '2026-01-15 10:30:00')).toEqual({ take: [0, 1, 2], deferred: false });
    expect(healSelection(backlog(2), heal, '2026-01-15 10:30:00')).toEqual({ take: [0, 1], deferred: false });
    expect(healSelection(backlog(2), { ...heal, maxRequestsPerHour: 0 }, '2026-01-15 10:30:00').take).toEqual([]);
  });

  it('leaves a big backlog for its window, across midnight', () => {
    expect(healSelection(backlog(6), heal, '2026-01-15 10:30:00')).toEqual({ take: [], deferred: true });
    expect(healSelection(backlog(6), heal, '2026-01-15 21:59:00').deferred).toBe(true);
    expect(healSelection(backlog(6), heal, '2026-01-15 22:00:00')).toEqual({ take: [0, 1, 2], deferred: false });
    expect(healSelection(backlog(6), heal, '2026-01-16 05:59:00').deferred).toBe(false);
    expect(healSelection(backlog(6), heal, '2026-01-16 06:00:00').deferred).toBe(true);
  });

  it('reads hour ranges as the config does', () => {
    expect(insideHours('06:00-23:00', '06:00')).toBe(true);
    expect(insideHours('06:00-23:00', '23:00')).toBe(false);
    expect(insideHours('06:00-23:00', '05:59')).toBe(false);
    expect(insideHours('00:00-00:00', '12:00')).toBe(true);
  });
});

describe('when a store-day is worth a request', () => {
  it('at once, unless it waits for the second empty answer that alone can prove it', () => {
    expect(healNotBefore({ unprovenEmpty: null })).toBe(0);
    expect(
      healNotBefore({
        unprovenEmpty: {
          reason: 'no-proof',
          since: '2026-01-13T12:00:00.000Z',
          confirmFrom: null,
          confirmFromLocal: null,
        },
      }),
    ).toBe(0);
    const waiting = {
      reason: 'needs-second-answer' as const,
      since: '2026-01-13T12:00:00.000Z',
      confirmFrom: '2026-01-13T18:00:00.000Z',
      confirmFromLocal: '2026-01-13 14:00',
    };
    expect(healNotBefore({ unprovenEmpty: waiting })).toBe(Date.parse('2026-01-13T18:00:00.000Z'));
  });
});
