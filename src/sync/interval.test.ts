import { describe, expect, it } from 'vitest';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { UsageError } from '../shared/errors.ts';
import { clampToStoreLife, incrementalInterval, parseCliDateTime, recoveryInterval } from './interval.ts';

const paraiso = DEFAULT_STORES.find((s) => s.id === 'tienda_18')!;

describe('parseCliDateTime', () => {
  it('reads the seed form, an end reaching the last second of its minute', () => {
    expect(parseCliDateTime('2026-01-10 00:00', 'start', '--fecha-desde')).toBe('2026-01-10 00:00:00');
    expect(parseCliDateTime('2026-01-25 23:59', 'end', '--fecha-hasta')).toBe('2026-01-25 23:59:59');
    expect(parseCliDateTime('2026-01-12 08:00', 'end', '--fecha-hasta')).toBe('2026-01-12 08:00:59');
  });

  it('reads a bare date as the whole day and keeps given seconds', () => {
    expect(parseCliDateTime('2026-01-10', 'start', 'x')).toBe('2026-01-10 00:00:00');
    expect(parseCliDateTime('2026-01-10', 'end', 'x')).toBe('2026-01-10 23:59:59');
    expect(parseCliDateTime('2026-01-10 08:00:30', 'end', 'x')).toBe('2026-01-10 08:00:30');
  });

  it.each(['2026-02-30 00:00', '2026-01-10 24:00', '10/01/2026', '2026-01-10 8:00', '', 'ayer'])(
    'rejects %j as bad input naming the flag and the valid form',
    (value) => {
      expect(() => parseCliDateTime(value, 'start', '--fecha-desde')).toThrow(UsageError);
      expect(() => parseCliDateTime(value, 'start', '--fecha-desde')).toThrow(
        /--fecha-desde inválida.*YYYY-MM-DD HH:MM/,
      );
    },
  );
});

describe('modes', () => {
  it('incremental: the last minutes plus an hour of overlap, across midnight', () => {
    expect(incrementalInterval('2026-01-12 00:20:00', 30)).toEqual({
      from: '2026-01-11 22:50:00',
      to: '2026-01-12 00:20:00',
    });
  });

  it('recovery: the whole day N days back', () => {
    expect(recoveryInterval('2026-03-01', 1)).toEqual({ from: '2026-02-28 00:00:00', to: '2026-02-28 23:59:59' });
    expect(recoveryInterval('2026-03-01', 3)).toEqual({ from: '2026-02-26 00:00:00', to: '2026-02-26 23:59:59' });
  });

  it('clamps to the store life: nothing is asked of PARAISO before it opened', () => {
    expect(clampToStoreLife(paraiso, { from: '2025-10-28 00:00:00', to: '2025-12-10 23:59:59' })).toEqual({
      from: '2025-12-06 00:00:00',
      to: '2025-12-10 23:59:59',
    });
    expect(clampToStoreLife(paraiso, { from: '2025-11-01 00:00:00', to: '2025-12-05 23:59:59' })).toBeNull();
  });
});
