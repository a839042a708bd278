import type { Queryable } from '../db/types.ts';
import type { IsoDate } from '../shared/dates.ts';
import type { DayTally, RejectedTally } from './batch.ts';
import { now as clockNow } from '../shared/clock.ts';
import { recountStoreDays } from './ventas.ts';

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

/**
 * Brings the per-store-day summary of `days` up to date: one statement, in the caller's transaction. Each day's own
 * figures are recounted from `ventas`, so the summary is right whatever happened before; KLK's whole-day figures,
 * when given, become the day's reference, 0 included (see recountStoreDays).
 */
export async function refreshStoreDays(db: Queryable, refresh: StoreDaysRefresh): Promise<void> {
  const { storeId, days, klk, rejected, extraction } = refresh;
  // Proof is never assumed: a caller that does not say the answer proved itself records no day as KLK's 0.
  const proven = refresh.proven ?? false;
  // Whether the answer says anything of the day: always when proven; without proof, only through its own lines.
  const spoke = (d: IsoDate) =>
    klk !== null && (proven || (klk.get(d)?.lines ?? 0) > 0 || (rejected?.get(d)?.lines ?? 0) > 0);
  await recountStoreDays(db, {
    storeId,
    days,
    klkLines: days.map((d) => (spoke(d) ? (klk!.get(d)?.lines ?? 0) : null)),
    klkTotalUsd: days.map((d) => (spoke(d) ? ((klk!.get(d)?.totalUsdE4 ?? 0) / 10_000).toFixed(4) : null)),
    extraction: extraction !== null,
    runId: extraction?.runId ?? null,
    klkRejected: days.map((d) => (spoke(d) ? (rejected?.get(d)?.lines ?? 0) : null)),
    klkRejectedFingerprint: days.map((d) => (spoke(d) ? (rejected?.get(d)?.fingerprint ?? null) : null)),
    unprovenEmpty: days.map((d) => klk !== null && !spoke(d)),
    answeredAt: (refresh.answeredAt ?? clockNow()).toISOString(),
  });
}
