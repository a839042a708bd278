import type { Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import type { DayTally, RejectedTally } from './batch.ts';
import { now as clockNow } from '../shared/clock.ts';

export interface StoreDaysRefresh {
  storeId: string;
  days: readonly IsoDate[];
  /**
   * What KLK reported for each whole day (a day it had nothing of counts as 0 lines), or null when the days were
   * not asked whole (an hour window): their reference stays as it was.
   */
  klk: ReadonlyMap<IsoDate, DayTally> | null;
  /** With `klk`: the lines of each whole day that were quarantined (a day absent had none). */
  rejected?: ReadonlyMap<IsoDate, RejectedTally>;
  /**
   * With `klk`: whether the answer proved itself whole (its `meta` echoed the request and its `total_registros`
   * matched). A day without lines in an unproven answer is not taken as 0: its reference stays as it was and only
   * `unproven_empty_at` records that such an answer came. Days with lines are their own evidence either way.
   */
  proven?: boolean;
  /** When the answer came, on the `ventas` clock: the time the 0-line evidence is stamped with. */
  answeredAt?: Date;
  /** An extraction (stamps `extracted_at` and the run), or a check that only records KLK's figures (reconcile). */
  extraction: { runId: number | null } | null;
}

/*
 * Each day's own figures are recomputed from `ventas` in the same statement, so the summary is right whatever
 * happened before; KLK's whole-day figures, when given, become the day's reference, 0 included: that is how an
 * empty day is told from a missing one, and, with the count of quarantined lines, from a rejected one. A day found
 * all-rejected again with another fingerprint than the all-rejected answer before it is marked as changed at source.
 */
const REFRESH_SQL = `
  INSERT INTO store_days AS sd
    (store_id, day, lines, total_usd, klk_lines, klk_total_usd, klk_rejected, klk_rejected_fingerprint,
     whole_day_extracted_at, extracted_at, last_run_id, empty_since, empty_seen_at, unproven_empty_at)
  SELECT $1, d.day, coalesce(v.lines, 0), coalesce(v.total, 0), d.klk_lines, d.klk_total, d.rejected, d.fingerprint,
         CASE WHEN d.klk_lines IS NULL THEN NULL ELSE now() END, CASE WHEN $5 THEN now() END, $6,
         CASE WHEN d.klk_lines = 0 AND d.rejected = 0 THEN $10::timestamptz END,
         CASE WHEN d.klk_lines = 0 AND d.rejected = 0 THEN $10::timestamptz END,
         CASE WHEN d.unproven_empty THEN $10::timestamptz END
  FROM unnest($2::date[], $3::int[], $4::numeric[], $7::int[], $8::text[], $9::boolean[])
    AS d(day, klk_lines, klk_total, rejected, fingerprint, unproven_empty)
  LEFT JOIN LATERAL (
    SELECT count(*)::int AS lines, sum(venta_total) AS total
    FROM ventas
    WHERE ubicacion_id = $1 AND fecha_venta >= d.day AND fecha_venta < d.day + 1
  ) v ON true
  ON CONFLICT (store_id, day) DO UPDATE SET
    lines = EXCLUDED.lines,
    total_usd = EXCLUDED.total_usd,
    klk_lines = coalesce(EXCLUDED.klk_lines, sd.klk_lines),
    klk_total_usd = coalesce(EXCLUDED.klk_total_usd, sd.klk_total_usd),
    klk_rejected = CASE WHEN EXCLUDED.klk_lines IS NULL THEN sd.klk_rejected ELSE EXCLUDED.klk_rejected END,
    klk_rejected_fingerprint =
      CASE WHEN EXCLUDED.klk_lines IS NULL THEN sd.klk_rejected_fingerprint ELSE EXCLUDED.klk_rejected_fingerprint END,
    rejected_source_changed_at = CASE
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.rejected_source_changed_at
      WHEN EXCLUDED.klk_lines = 0 AND EXCLUDED.klk_rejected > 0 AND sd.klk_lines = 0 AND sd.klk_rejected > 0
           AND EXCLUDED.klk_rejected_fingerprint IS DISTINCT FROM sd.klk_rejected_fingerprint THEN now()
      ELSE NULL END,
    whole_day_extracted_at = coalesce(EXCLUDED.whole_day_extracted_at, sd.whole_day_extracted_at),
    extracted_at = coalesce(EXCLUDED.extracted_at, sd.extracted_at),
    last_run_id = CASE WHEN $5 THEN EXCLUDED.last_run_id ELSE sd.last_run_id END,
    -- A run of proven 0-line answers keeps its first; an answer with lines (sold or quarantined) ends the run; an
    -- answer that proves nothing (no meta, or hours only) leaves it as it was.
    empty_since = CASE
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.empty_since
      WHEN EXCLUDED.empty_since IS NOT NULL THEN coalesce(sd.empty_since, EXCLUDED.empty_since)
      ELSE NULL END,
    empty_seen_at = CASE
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.empty_seen_at
      ELSE EXCLUDED.empty_seen_at END,
    unproven_empty_at = CASE
      WHEN EXCLUDED.unproven_empty_at IS NOT NULL THEN EXCLUDED.unproven_empty_at
      WHEN EXCLUDED.klk_lines IS NULL THEN sd.unproven_empty_at
      ELSE NULL END`;

/** Brings the per-store-day summary of `days` up to date: one statement, in the caller's transaction. */
export async function refreshStoreDays(db: Queryable, refresh: StoreDaysRefresh): Promise<void> {
  const { storeId, days, klk, rejected, extraction } = refresh;
  // Proof is never assumed: a caller that does not say the answer proved itself records no day as KLK's 0.
  const proven = refresh.proven ?? false;
  // Whether the answer says anything of the day: always when proven; without proof, only through its own lines.
  const spoke = (d: IsoDate) => klk !== null && (proven || (klk.get(d)?.lines ?? 0) > 0 || (rejected?.get(d)?.lines ?? 0) > 0);
  await db.query(REFRESH_SQL, [
    storeId,
    days,
    days.map((d) => (spoke(d) ? (klk!.get(d)?.lines ?? 0) : null)),
    days.map((d) => (spoke(d) ? ((klk!.get(d)?.totalUsdE4 ?? 0) / 10_000).toFixed(4) : null)),
    extraction !== null,
    extraction?.runId ?? null,
    days.map((d) => (spoke(d) ? (rejected?.get(d)?.lines ?? 0) : null)),
    days.map((d) => (spoke(d) ? (rejected?.get(d)?.fingerprint ?? null) : null)),
    days.map((d) => klk !== null && !spoke(d)),
    (refresh.answeredAt ?? clockNow()).toISOString(),
  ]);
}
