/** `store_days` rows for coverage tests: a steady history with chosen holes, and single days set by hand. */
import { isClosedDay } from '../../src/catalogue/calendar.ts';
import { DEFAULT_CLOSED_DAYS, type Store } from '../../src/catalogue/stores.ts';
import { eachDay, weekday, type IsoDate } from '../../src/shared/dates.ts';
import type { StoreDayRow } from '../../src/coverage/states.ts';

/** A steady store: 9,000 lines a day, Sundays 6,000, with a little day-to-day wobble. */
export function usualLines(day: IsoDate): number {
  return (weekday(day) === 0 ? 6000 : 9000) + (Number(day.slice(8)) % 5) * 100;
}

/** A row for every open day of each store's life, loaded by the hourly ETL (never extracted whole). */
export function history(params: {
  stores: readonly Store[];
  from: IsoDate;
  to: IsoDate;
  chainClosedDays?: readonly string[];
  /** Days with no rows. */
  hole?: (storeId: string, day: IsoDate) => boolean;
}): StoreDayRow[] {
  const rows: StoreDayRow[] = [];
  for (const store of params.stores) {
    for (const day of eachDay(params.from, params.to)) {
      if (isClosedDay(store, day, params.chainClosedDays ?? DEFAULT_CLOSED_DAYS)) continue;
      if (params.hole?.(store.id, day)) continue;
      const lines = usualLines(day);
      rows.push({ storeId: store.id, day, lines, totalUsd: lines * 2.5, klkLines: null });
    }
  }
  return rows;
}

/** Sets (or adds) one store-day's row. */
export function setDay(rows: StoreDayRow[], storeId: string, day: IsoDate, values: Partial<StoreDayRow>): void {
  const row = rows.find((r) => r.storeId === storeId && r.day === day);
  if (row) Object.assign(row, values);
  else rows.push({ storeId, day, lines: 0, totalUsd: 0, klkLines: null, ...values });
}

/** First and last day with lines, per store, as `readCoverageInput` gives them. */
export function salesBounds(rows: readonly StoreDayRow[], storeIds: readonly string[]) {
  const firstSales: Record<string, IsoDate | null> = {};
  const lastSales: Record<string, IsoDate | null> = {};
  for (const id of storeIds) {
    const days = rows.filter((r) => r.storeId === id && r.lines > 0).map((r) => r.day);
    firstSales[id] = days.length > 0 ? days.reduce((a, b) => (a < b ? a : b)) : null;
    lastSales[id] = days.length > 0 ? days.reduce((a, b) => (a > b ? a : b)) : null;
  }
  return { firstSales, lastSales };
}
