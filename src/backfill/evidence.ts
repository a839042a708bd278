/**
 * What the planner learns from the database besides the coverage report, read here so the planner itself stays
 * pure: the recorded durations of KLK requests (the cost model, from the run history) and each store's volume over
 * its recent history (chunk sizes for a store with no complete day in the window, from the per-day summary).
 */
import type { Config } from '../catalogue/config.ts';
import type { CoverageReport } from '../coverage/report.ts';
import { median } from '../coverage/states.ts';
import type { Queryable } from '../db/types.ts';
import { recentDayLines } from '../load/ventas.ts';
import { planFromCoverage, type PlanEvidence } from '../plan/from-coverage.ts';
import type { Plan } from '../plan/plan.ts';
import { fitCostModel } from '../plan/timing.ts';
import { requestTimings } from '../sync/runs.ts';

/** Recorded requests the cost model is fitted on: the latest ones, so a KLK that got faster or slower shows. */
const TIMING_SAMPLES = 500;
/** Recent days of a store whose median is its volume: four weeks, every weekday four times. */
const HISTORY_DAYS = 28;

export async function readPlanEvidence(db: Queryable, storeIds: readonly string[]): Promise<PlanEvidence> {
  const timingSamples = await requestTimings(db, TIMING_SAMPLES);
  // Days known to be partial are left out; the median keeps a stray partial one KLK never counted from mattering.
  const days = await recentDayLines(db, storeIds, HISTORY_DAYS);
  const linesByStore = new Map<string, number[]>();
  for (const day of days) linesByStore.set(day.storeId, [...(linesByStore.get(day.storeId) ?? []), day.lines]);
  return {
    timingSamples,
    historyLinesPerDay: Object.fromEntries(
      storeIds.map((id) => {
        const lines = linesByStore.get(id);
        return [id, lines ? Math.round(median(lines)) : null];
      }),
    ),
  };
}

/**
 * The plan of a coverage report, with what this database has recorded: each request's cost fitted on the KLK
 * requests made so far, and the volume of stores without a complete day in the window from their history.
 */
export async function planForReport(
  db: Queryable,
  report: CoverageReport,
  options: { config: Config; concurrency?: number },
): Promise<Plan> {
  const evidence = await readPlanEvidence(
    db,
    report.stores.map((s) => s.store),
  );
  return planFromCoverage(report, {
    ...options,
    timing: fitCostModel(evidence.timingSamples),
    historyLinesPerDay: evidence.historyLinesPerDay,
  });
}
