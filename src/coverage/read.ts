/**
 * What the coverage report needs from the database, read from the `store_days` summary only: a scan of `ventas`
 * would cost minutes on a large table, the summary costs one row per store-day.
 */
import type { Queryable } from '../db/types.ts';
import { salesSpans, storeDaySummaries } from '../load/ventas.ts';
import { addDays, type IsoDate } from '../shared/dates.ts';
import type { StoreDayRow } from './states.ts';

/** Days read before `from`: enough for 4 earlier same weekdays plus a week of holes. */
export const BASELINE_LOOKBACK_DAYS = 35;

export interface CoverageData {
  /** `store_days` rows from `from - 35 days` to `to`, ordered by store and day. */
  rows: StoreDayRow[];
  /** First and last day with rows ever, per requested store (null when none). */
  firstSales: Record<string, IsoDate | null>;
  lastSales: Record<string, IsoDate | null>;
}

export async function readCoverageInput(
  db: Queryable,
  params: { from: IsoDate; to: IsoDate; storeIds: readonly string[] },
): Promise<CoverageData> {
  const storeIds = [...params.storeIds];
  const days = await storeDaySummaries(db, storeIds, addDays(params.from, -BASELINE_LOOKBACK_DAYS), params.to);
  const sales = await salesSpans(db, storeIds);

  const firstSales: Record<string, IsoDate | null> = Object.fromEntries(storeIds.map((id) => [id, null]));
  const lastSales: Record<string, IsoDate | null> = { ...firstSales };
  for (const s of sales) {
    firstSales[s.storeId] = s.firstSale;
    lastSales[s.storeId] = s.lastSale;
  }
  return {
    rows: days.map((r) => ({
      storeId: r.store_id,
      day: r.day,
      lines: r.lines,
      totalUsd: Number(r.total_usd),
      klkLines: r.klk_lines,
      klkRejected: r.klk_rejected,
      rejectedSourceChanged: r.source_changed,
      emptySince: r.empty_since,
      emptySeenAt: r.empty_seen_at,
      unprovenEmptyAt: r.unproven_empty_at,
    })),
    firstSales,
    lastSales,
  };
}
