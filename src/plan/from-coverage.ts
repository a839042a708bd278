import type { Config } from '../catalogue/config.ts';
import type { CoverageReport } from '../coverage/report.ts';
import { median } from '../coverage/states.ts';
import { buildPlan, DEFAULT_LINES_PER_DAY, type Plan, type PlanInput } from './plan.ts';
import type { CostModel, RequestSample } from './timing.ts';

/** What the planner learns from the database besides the coverage report (read by its callers: backfill/evidence.ts). */
export interface PlanEvidence {
  /** The latest recorded KLK requests that got a whole answer: what the cost model is fitted on (fitCostModel). */
  timingSamples: RequestSample[];
  /** Per store: median lines of its latest days with sales not known to be partial; null when it never sold. */
  historyLinesPerDay: Record<string, number | null>;
}

export interface PlanOptions {
  config: Config;
  timing: CostModel;
  /** Per store, its volume over its whole history (`readPlanEvidence`); a store not in it has none. */
  historyLinesPerDay?: PlanEvidence['historyLinesPerDay'];
  concurrency?: number;
}

/**
 * The planner's input from a coverage report: targets are exactly the missing and partial store-days; future days
 * (not over yet) and rejected ones (their lines all quarantined, until the source changes) are never requested.
 */
export function planInputFromCoverage(report: CoverageReport, options: PlanOptions): PlanInput {
  return {
    from: report.from,
    to: report.to,
    stores: report.stores.map((s) => {
      const cells = report.days[s.store] ?? [];
      const complete = cells.filter((c) => c.state === 'complete').map((c) => c.lines);
      return {
        id: s.store,
        name: s.name,
        priority: s.priority,
        isNew: s.isNew,
        coveragePct: s.coveragePct,
        missingDays: s.missingDays,
        partialDays: s.partialDays,
        linesPerDay: complete.length > 0 ? Math.round(median(complete)) : null,
        historyLinesPerDay: options.historyLinesPerDay?.[s.store] ?? null,
        targets: cells
          .filter((c) => c.state === 'missing' || c.state === 'partial')
          .map((c) => ({ day: c.day, state: c.state as 'missing' | 'partial' })),
        unavailable: cells
          .filter((c) => c.state === 'closed' || c.state === 'empty' || c.state === 'future')
          .map((c) => c.day),
        rejected: cells.filter((c) => c.state === 'rejected').map((c) => c.day),
      };
    }),
    commonGaps: report.patterns.commonGaps.map((g) => ({ from: g.from, to: g.to, stores: g.stores })),
    lineBudget: options.config.lineBudget,
    defaultLinesPerDay: DEFAULT_LINES_PER_DAY,
    timing: { ...options.timing, load: { ...options.timing.load } },
    concurrency: options.concurrency ?? options.config.concurrency,
  };
}

export function planFromCoverage(report: CoverageReport, options: PlanOptions): Plan {
  return buildPlan(planInputFromCoverage(report, options));
}
