import { describe, expect, it } from 'vitest';
import { int, seconds } from './format.ts';

describe('format', () => {
  it('writes numbers with the thousands dot users read', () => {
    expect(int(1234567.4)).toBe('1.234.567');
  });

  it('writes durations in tenths under a minute and whole seconds after, rounding before splitting', () => {
    expect([0, 1234, 59_940, 59_990, 60_000, 119_600, 3_599_700].map(seconds)).toEqual([
      '0.0 s',
      '1.2 s',
      '59.9 s',
      '1 min 0 s',
      '1 min 0 s',
      '2 min 0 s',
      '60 min 0 s',
    ]);
  });
});
