import { describe, expect, it } from 'vitest';
import {
  addDays,
  daysBetween,
  eachDay,
  isValidDate,
  localDateTime,
  monthDay,
  utcOffsetLabel,
  weekday,
} from './dates.ts';

describe('calendar days', () => {
  it('knows a real date from one that only looks like it', () => {
    expect(['2026-01-31', '2024-02-29', '2000-02-29', '1999-12-31'].map(isValidDate)).toEqual([true, true, true, true]);
    expect(
      ['2026-02-29', '1900-02-29', '2026-13-01', '2026-04-31', '2026-1-5', '2026-01-05T00:00', ''].map(isValidDate),
    ).toEqual([false, false, false, false, false, false, false]);
  });

  it('adds days across months, years and leap days, both ways', () => {
    expect(addDays('2025-12-31', 1)).toBe('2026-01-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2026-01-10', -89)).toBe('2025-10-13');
    expect(addDays('2026-01-10', 0)).toBe('2026-01-10');
    expect(() => addDays('2026-1-10', 1)).toThrow('fecha inválida: 2026-1-10');
  });

  it('counts the days between two dates with a sign, and lists every day of a range', () => {
    expect(daysBetween('2025-10-28', '2026-01-25')).toBe(89);
    expect(daysBetween('2026-01-25', '2025-10-28')).toBe(-89);
    expect(eachDay('2025-12-30', '2026-01-02')).toEqual(['2025-12-30', '2025-12-31', '2026-01-01', '2026-01-02']);
    expect(eachDay('2026-01-02', '2026-01-02')).toEqual(['2026-01-02']);
    expect(eachDay('2026-01-03', '2026-01-02')).toEqual([]);
  });

  it('names the weekday (0 Sunday) before and after 1970, and the month-day of yearly closures', () => {
    expect(['2026-01-25', '2026-01-26', '2026-01-31', '1969-12-31', '1970-01-01'].map(weekday)).toEqual([
      0, 1, 6, 3, 4,
    ]);
    expect(monthDay('2025-12-25')).toBe('12-25');
  });
});

describe('wall clocks', () => {
  const instant = new Date('2026-01-26T03:30:05Z');

  it('reads an instant on a store’s clock, the day before when the zone is behind UTC', () => {
    expect(localDateTime('America/Caracas', instant)).toBe('2026-01-25 23:30:05');
    expect(localDateTime('UTC', instant)).toBe('2026-01-26 03:30:05');
    // Midnight is 00, never 24.
    expect(localDateTime('America/Caracas', new Date('2026-01-26T04:00:00Z'))).toBe('2026-01-26 00:00:00');
  });

  it('labels a zone’s offset as people read it, daylight saving included', () => {
    expect(utcOffsetLabel('America/Caracas', instant)).toBe('UTC−4');
    expect(utcOffsetLabel('UTC', instant)).toBe('UTC');
    expect(utcOffsetLabel('Asia/Kolkata', instant)).toBe('UTC+5:30');
    expect(utcOffsetLabel('America/New_York', new Date('2026-07-01T12:00:00Z'))).toBe('UTC−4');
    expect(utcOffsetLabel('America/New_York', instant)).toBe('UTC−5');
  });
});
