import { describe, expect, it } from 'vitest';
import { addDays, daysBetween } from '../shared/dates.ts';
import { UsageError } from '../shared/errors.ts';
import { describeWindow, isWholeDays, planWindows, splitWindow, windowDays, type KlkWindow } from './windows.ts';

const DAY = 86_400;

function seconds(time: string): number {
  const [h, m, s] = time.split(':').map(Number);
  return h! * 3600 + m! * 60 + s!;
}

function absolute(value: string): number {
  return daysBetween('2000-01-01', value.slice(0, 10)) * DAY + seconds(value.slice(11));
}

/** The [first, last] absolute seconds each window selects, one range per date (KLK's per-day hour rule). */
function coveredRanges(windows: KlkWindow[]): Array<[number, number]> {
  return windows.flatMap((w) =>
    windowDays(w).map((day): [number, number] => {
      const base = daysBetween('2000-01-01', day) * DAY;
      return [base + seconds(w.horaDesde ?? '00:00:00'), base + seconds(w.horaHasta ?? '23:59:59')];
    }),
  );
}

describe('planWindows', () => {
  it('cuts 2026-01-10 12:00 to 2026-01-12 08:00:59 into a partial first day, whole days and a partial last day', () => {
    expect(planWindows('2026-01-10 12:00:00', '2026-01-12 08:00:59', 5)).toEqual([
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-10', horaDesde: '12:00:00', horaHasta: '23:59:59' },
      { fechaDesde: '2026-01-11', fechaHasta: '2026-01-11' },
      { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12', horaDesde: '00:00:00', horaHasta: '08:00:59' },
    ]);
  });

  it('chunks whole ranges into aligned runs of at most chunkDays days without hours', () => {
    const sixteen = planWindows('2026-01-10 00:00:00', '2026-01-25 23:59:59', 2);
    expect(sixteen).toHaveLength(8);
    expect(sixteen[0]).toEqual({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' });
    expect(sixteen[7]).toEqual({ fechaDesde: '2026-01-24', fechaHasta: '2026-01-25' });
    expect(
      planWindows('2026-01-10 00:00:00', '2026-01-25 23:59:59', 3).map((w) => [w.fechaDesde, w.fechaHasta]),
    ).toEqual([
      ['2026-01-10', '2026-01-12'],
      ['2026-01-13', '2026-01-15'],
      ['2026-01-16', '2026-01-18'],
      ['2026-01-19', '2026-01-21'],
      ['2026-01-22', '2026-01-24'],
      ['2026-01-25', '2026-01-25'],
    ]);
    expect(planWindows('2025-12-28 00:00:00', '2026-01-06 23:59:59', 5)).toEqual([
      { fechaDesde: '2025-12-28', fechaHasta: '2026-01-01' },
      { fechaDesde: '2026-01-02', fechaHasta: '2026-01-06' },
    ]);
    expect(planWindows('2026-01-10 00:00:00', '2026-01-10 23:59:59', 5)).toEqual([
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-10' },
    ]);
  });

  it('keeps a same-day partial interval as one request with both hours', () => {
    expect(planWindows('2026-01-12 07:30:00', '2026-01-12 09:00:59', 2)).toEqual([
      { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12', horaDesde: '07:30:00', horaHasta: '09:00:59' },
    ]);
    expect(planWindows('2026-01-12 00:00:00', '2026-01-12 00:00:00', 2)).toEqual([
      { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12', horaDesde: '00:00:00', horaHasta: '00:00:00' },
    ]);
  });

  it('handles midnight edges without losing or repeating a second', () => {
    // Starts at the last second of a day: that second alone, then whole days.
    expect(planWindows('2026-01-09 23:59:59', '2026-01-11 23:59:59', 7)).toEqual([
      { fechaDesde: '2026-01-09', fechaHasta: '2026-01-09', horaDesde: '23:59:59', horaHasta: '23:59:59' },
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' },
    ]);
    // Ends at the first second of a day.
    expect(planWindows('2026-01-10 00:00:00', '2026-01-12 00:00:00', 7)).toEqual([
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' },
      { fechaDesde: '2026-01-12', fechaHasta: '2026-01-12', horaDesde: '00:00:00', horaHasta: '00:00:00' },
    ]);
    // Two adjacent partial days and no whole day between them.
    expect(planWindows('2026-01-10 21:00:00', '2026-01-11 06:59:59', 3)).toEqual([
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-10', horaDesde: '21:00:00', horaHasta: '23:59:59' },
      { fechaDesde: '2026-01-11', fechaHasta: '2026-01-11', horaDesde: '00:00:00', horaHasta: '06:59:59' },
    ]);
  });

  it('rejects bad input with a message that says what is valid', () => {
    expect(() => planWindows('2026-01-10 00:00:00', '2026-01-12 00:00:00', 0)).toThrow(UsageError);
    expect(() => planWindows('2026-01-10 00:00:00', '2026-01-12 00:00:00', 1.5)).toThrow(/entero/);
    expect(() => planWindows('2026-01-12 00:00:00', '2026-01-10 00:00:00', 1)).toThrow(/posterior/);
    expect(() => planWindows('2026-02-30 00:00:00', '2026-03-01 00:00:00', 1)).toThrow(/YYYY-MM-DD HH:MM:SS/);
    expect(() => planWindows('2026-01-10 12:00', '2026-01-12 00:00:00', 1)).toThrow(UsageError);
    expect(() => planWindows('2026-01-10 24:00:00', '2026-01-12 00:00:00', 1)).toThrow(UsageError);
  });

  it('covers every second of random intervals exactly once, within the chunk size and the per-day rule', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pad = (n: number) => String(n).padStart(2, '0');
    const edgeTimes = ['00:00:00', '23:59:59', '00:00:01', '23:59:58', '12:00:00'];
    const randomTime = () =>
      random(3) === 0
        ? edgeTimes[random(edgeTimes.length)]!
        : `${pad(random(24))}:${pad(random(60))}:${pad(random(60))}`;
    for (let i = 0; i < 2_000; i++) {
      const fromDate = addDays('2025-10-28', random(90));
      const toDate = addDays(fromDate, random(4) === 0 ? 0 : random(40));
      let from = `${fromDate} ${randomTime()}`;
      let to = `${toDate} ${randomTime()}`;
      if (from > to) [from, to] = [to, from];
      const chunkDays = 1 + random(7);
      const windows = planWindows(from, to, chunkDays);

      for (const w of windows) {
        expect(windowDays(w).length).toBeLessThanOrEqual(chunkDays);
        // Hours only on single-day requests: a multi-day request with hours would lose hours of its later days.
        if (w.fechaDesde !== w.fechaHasta) expect(w.horaDesde === undefined && w.horaHasta === undefined).toBe(true);
        if (w.horaDesde !== undefined) expect(w.horaDesde <= w.horaHasta!).toBe(true);
      }
      const ranges = coveredRanges(windows).sort((a, b) => a[0] - b[0]);
      expect(ranges[0]![0]).toBe(absolute(from));
      expect(ranges.at(-1)![1]).toBe(absolute(to));
      for (let k = 1; k < ranges.length; k++) expect(ranges[k]![0]).toBe(ranges[k - 1]![1] + 1);
    }
  });
});

describe('window helpers', () => {
  it('lists days and tells whole-day windows apart', () => {
    expect(windowDays({ fechaDesde: '2025-12-30', fechaHasta: '2026-01-02' })).toEqual([
      '2025-12-30',
      '2025-12-31',
      '2026-01-01',
      '2026-01-02',
    ]);
    expect(isWholeDays({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-11' })).toBe(true);
    expect(
      isWholeDays({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-10', horaDesde: '00:00:00', horaHasta: '23:59:59' }),
    ).toBe(true);
    expect(
      isWholeDays({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-10', horaDesde: '00:00:00', horaHasta: '23:59:58' }),
    ).toBe(false);
    expect(describeWindow({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-12' })).toBe('2026-01-10..2026-01-12');
    expect(
      describeWindow({
        fechaDesde: '2026-01-10',
        fechaHasta: '2026-01-10',
        horaDesde: '12:00:00',
        horaHasta: '23:59:59',
      }),
    ).toBe('2026-01-10 12:00:00-23:59:59');
  });

  it('halves multi-day windows on a day boundary and refuses single days', () => {
    expect(splitWindow({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-14' })).toEqual([
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-12' },
      { fechaDesde: '2026-01-13', fechaHasta: '2026-01-14' },
    ]);
    expect(splitWindow({ fechaDesde: '2026-01-31', fechaHasta: '2026-02-01' })).toEqual([
      { fechaDesde: '2026-01-31', fechaHasta: '2026-01-31' },
      { fechaDesde: '2026-02-01', fechaHasta: '2026-02-01' },
    ]);
    expect(
      splitWindow({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-11', horaDesde: '07:00:00', horaHasta: '09:00:00' }),
    ).toEqual([
      { fechaDesde: '2026-01-10', fechaHasta: '2026-01-10', horaDesde: '07:00:00', horaHasta: '09:00:00' },
      { fechaDesde: '2026-01-11', fechaHasta: '2026-01-11', horaDesde: '07:00:00', horaHasta: '09:00:00' },
    ]);
    expect(splitWindow({ fechaDesde: '2026-01-10', fechaHasta: '2026-01-10' })).toBeNull();
  });
});
