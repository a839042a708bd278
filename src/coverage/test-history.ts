/**
 * Test support: `store_days` histories with known holes, and the seed's situation (19 stores, 2025-10-28..2026-01-25,
 * the common gap of 10-25 January, FLOR AMARILLO and PARAISO new).
 */
import { DEFAULT_CLOSED_DAYS, DEFAULT_STORES, type Store } from '../catalogue/stores.ts';
import { parseConfig } from '../catalogue/config.ts';
import { isClosedDay } from '../catalogue/calendar.ts';
import { eachDay, weekday, type IsoDate } from '../shared/dates.ts';
import type { CoverageInput } from './report.ts';
import type { StoreDayRow } from './states.ts';

export const SEED_FROM = '2025-10-28';
export const SEED_TO = '2026-01-25';
/** The seed plan's morning, 2026-01-26 12:00 in Caracas: every day of the seed window is over. */
export const SEED_NOW = new Date('2026-01-26T16:00:00Z');
export const DEFAULT_THRESHOLDS = parseConfig({}).thresholds;

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

/** A coverage input over `rows`, with first/last sales taken from the same rows. */
export function inputFor(
  rows: readonly StoreDayRow[],
  overrides: Partial<CoverageInput> & { stores?: readonly Store[] } = {},
): CoverageInput {
  const stores = overrides.stores ?? DEFAULT_STORES;
  return {
    stores,
    chainClosedDays: DEFAULT_CLOSED_DAYS,
    thresholds: DEFAULT_THRESHOLDS,
    from: SEED_FROM,
    to: SEED_TO,
    rows,
    ...salesBounds(
      rows,
      stores.map((s) => s.id),
    ),
    ...overrides,
    now: overrides.now ?? SEED_NOW,
  };
}

const COMMON_GAP = { from: '2026-01-10', to: '2026-01-25' };

/**
 * The seed's situation: every store misses 10-25 January (FLOR AMARILLO sold only on the 25th), CENTRO also misses
 * 4 December to 9 January, PERIFERICO misses the first three days of the window, PARAISO opened on 2025-12-06.
 */
export function seedHistory(): StoreDayRow[] {
  return history({
    stores: DEFAULT_STORES,
    from: '2025-09-01',
    to: SEED_TO,
    hole: (storeId, day) => {
      if (storeId === 'tienda_11') return day !== SEED_TO;
      if (day >= COMMON_GAP.from && day <= COMMON_GAP.to) return true;
      if (storeId === 'tienda_07') return day >= '2025-12-04' && day <= '2026-01-09';
      if (storeId === 'tienda_01') return day >= SEED_FROM && day <= '2025-10-30';
      return false;
    },
  });
}
