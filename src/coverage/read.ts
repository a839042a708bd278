/**
 * What the coverage report needs from the database, read from the `store_days` summary only: a scan of `ventas`
 * would cost minutes on a large table, the summary costs one row per store-day.
 */
import type { Queryable } from '../db/types.ts';
import { addDays, type IsoDate } from '../shared/dates.ts';
import type { StoreDayRow } from './states.ts';

/** Days read before `from`: enough for 4 earlier same weekdays plus a week of holes. */
export const BASELINE_LOOKBACK_DAYS = 35;

/** A timestamptz column as ISO-8601 UTC text, the same on both backends whatever the session's time zone. */
function isoInstant(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${column}`;
}

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
  const days = await db.query<{
    store_id: string;
    day: string;
    lines: number;
    total_usd: string;
    klk_lines: number | null;
    klk_rejected: number | null;
    source_changed: boolean;
    empty_since: string | null;
    empty_seen_at: string | null;
    unproven_empty_at: string | null;
  }>(
    `SELECT store_id, day, lines, total_usd, klk_lines, klk_rejected, rejected_source_changed_at IS NOT NULL AS source_changed,
            ${isoInstant('empty_since')}, ${isoInstant('empty_seen_at')}, ${isoInstant('unproven_empty_at')}
       FROM store_days
      WHERE store_id = ANY($1::text[]) AND day BETWEEN $2::date AND $3::date
      ORDER BY store_id, day`,
    [storeIds, addDays(params.from, -BASELINE_LOOKBACK_DAYS), params.to],
  );
  const sales = await db.query<{ store_id: string; first_sale: string; last_sale: string }>(
    `SELECT store_id, min(day) AS first_sale, max(day) AS last_sale
       FROM store_days
      WHERE store_id = ANY($1::text[]) AND lines > 0
      GROUP BY store_id`,
    [storeIds],
  );

  const firstSales: Record<string, IsoDate | null> = Object.fromEntries(storeIds.map((id) => [id, null]));
  const lastSales: Record<string, IsoDate | null> = { ...firstSales };
  for (const s of sales.rows) {
    firstSales[s.store_id] = s.first_sale;
    lastSales[s.store_id] = s.last_sale;
  }
  return {
    rows: days.rows.map((r) => ({
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
