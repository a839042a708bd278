/**
 * What the planner learns from the database besides the coverage report, read in one place: the recorded
 * durations of KLK requests (the cost model) and each store's volume over its whole history (chunk sizes for a store
 * with no complete day in the window).
 */
import type { Queryable } from '../db/types.ts';
import { median } from '../coverage/states.ts';
import type { RequestSample } from './timing.ts';

/** Recorded requests the cost model is fitted on: the latest ones, so a KLK that got faster or slower shows. */
const TIMING_SAMPLES = 500;
/** Recent days of a store whose median is its volume: four weeks, every weekday four times. */
const HISTORY_DAYS = 28;

export interface PlanEvidence {
  timingSamples: RequestSample[];
  /** Per store: median lines of its latest days with sales not known to be partial; null when it never sold. */
  historyLinesPerDay: Record<string, number | null>;
}

export async function readPlanEvidence(db: Queryable, storeIds: readonly string[]): Promise<PlanEvidence> {
  const requests = await db.query<{ lines: number; ms: number; load_ms: number | null }>(
    `SELECT lines, duration_ms AS ms, load_ms FROM klk_requests WHERE outcome IN ('ok', 'empty') ORDER BY id DESC LIMIT $1`,
    [TIMING_SAMPLES],
  );
  // A day KLK counted whole and the table has fewer lines of is partial; a day KLK never counted whole is taken as
  // it is (an adopted table's days have no KLK count), the median keeps a stray partial one from mattering.
  const days = await db.query<{ store_id: string; lines: number }>(
    `SELECT store_id, lines FROM (
       SELECT store_id, lines, row_number() OVER (PARTITION BY store_id ORDER BY day DESC) AS recent
       FROM store_days
       WHERE store_id = ANY($1::text[]) AND lines > 0 AND (klk_lines IS NULL OR lines >= klk_lines)
     ) d
     WHERE recent <= $2`,
    [[...storeIds], HISTORY_DAYS],
  );
  const linesByStore = new Map<string, number[]>();
  for (const row of days.rows) linesByStore.set(row.store_id, [...(linesByStore.get(row.store_id) ?? []), row.lines]);
  return {
    timingSamples: requests.rows.map((r) => ({ lines: r.lines, seconds: r.ms / 1000, loadSeconds: r.load_ms === null ? null : r.load_ms / 1000 })),
    historyLinesPerDay: Object.fromEntries(
      storeIds.map((id) => {
        const lines = linesByStore.get(id);
        return [id, lines ? Math.round(median(lines)) : null];
      }),
    ),
  };
}
