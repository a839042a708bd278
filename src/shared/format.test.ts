import { describe, expect, it } from 'vitest';
import { count, decimal, int, seconds } from './format.ts';

describe('format', () => {
  it('writes numbers with the thousands dot users read, four digits included', () => {
    expect([1234567.4, 1633, 999, 0].map(int)).toEqual(['1.234.567', '1.633', '999', '0']);
    expect(decimal(1633.25, 1)).toBe('1.633,3');
    expect(decimal(0.5, 2)).toBe('0,50');
  });

  it('makes the noun agree with its count', () => {
    expect(count(1, 'petición', 'peticiones')).toBe('1 petición');
    expect(count(0, 'petición', 'peticiones')).toBe('0 peticiones');
    expect(count(2, 'tienda', 'tiendas')).toBe('2 tiendas');
    expect(count(1633, 'día-tienda', 'días-tienda')).toBe('1.633 días-tienda');
  });

  it('writes durations in tenths (decimal comma) under a minute and whole seconds after, rounding before splitting', () => {
    expect([0, 1234, 59_940, 59_990, 60_000, 119_600, 3_599_700].map(seconds)).toEqual([
      '0,0 s',
      '1,2 s',
      '59,9 s',
      '1 min 0 s',
      '1 min 0 s',
      '2 min 0 s',
      '60 min 0 s',
    ]);
  });
});
