import type { Config } from '../catalogue/config.ts';
import type { Queryable } from '../db/types.ts';
import type { CoverageReport } from '../coverage/report.ts';
import { median } from '../coverage/states.ts';
import { buildPlan, DEFAULT_LINES_PER_DAY, type Plan, type PlanInput } from './plan.ts';
import { fitTiming, readTimingSamples, type Timing } from './timing.ts';

/**
 * The planner's input from a coverage report: targets are exactly the missing and partial store-days; future days
 * (not over yet) and rejected ones (their lines all quarantined, until the source changes) are never requested.
 */
export function planInputFromCoverage(report: CoverageReport, options: { config: Config; timing: Timing; concurrency?: number }): PlanInput {
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
        targets: cells
          .filter((c) => c.state === 'missing' || c.state === 'partial')
          .map((c) => ({ day: c.day, state: c.state as 'missing' | 'partial' })),
        unavailable: cells.filter((c) => c.state === 'closed' || c.state === 'empty').map((c) => c.day),
        rejected: cells.filter((c) => c.state === 'rejected').map((c) => c.day),
      };
    }),
    commonGaps: report.patterns.commonGaps.map((g) => ({ from: g.from, to: g.to, stores: g.stores })),
    lineBudget: options.config.lineBudget,
    defaultLinesPerDay: DEFAULT_LINES_PER_DAY,
    timing: { baseSeconds: options.timing.baseSeconds, secondsPer1000Lines: options.timing.secondsPer1000Lines },
    concurrency: options.concurrency ?? options.config.concurrency,
  };
}

export function planFromCoverage(report: CoverageReport, options: { config: Config; timing: Timing; concurrency?: number }): Plan {
  return buildPlan(planInputFromCoverage(report, options));
}

/** The plan of a coverage report, each request's cost fitted on the timings this database has recorded. */
export async function planForReport(db: Queryable, report: CoverageReport, options: { config: Config; concurrency?: number }): Promise<Plan> {
  const timing = fitTiming(await readTimingSamples(db));
  return planFromCoverage(report, { ...options, timing });
}
