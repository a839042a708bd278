import { describe, expect, it } from 'vitest';
import { parseConfig } from '../catalogue/config.ts';
import { DEFAULT_STORES } from '../catalogue/stores.ts';
import { buildCoverage } from '../coverage/report.ts';
import { inputFor } from '../../test/fixtures/seed.ts';
import { history, setDay } from '../../test/support/store-days.ts';
import { eachDay } from '../shared/dates.ts';
import { planChunks } from './plan.ts';
import { planFromCoverage } from './from-coverage.ts';
import { fitCostModel } from './timing.ts';

const config = parseConfig({});
// The default model: no request recorded yet.
const timing = fitCostModel([]);
const stores = DEFAULT_STORES.filter((s) => s.id === 'tienda_01' || s.id === 'tienda_03');

/** Every store-day the plan requests. */
function requested(plan: ReturnType<typeof planFromCoverage>): string[] {
  return planChunks(plan).flatMap((c) => eachDay(c.dayFrom, c.dayTo).map((d) => `${c.storeId} ${d}`));
}

describe('planFromCoverage', () => {
  // Both stores lose 20-31 January; tienda_03's 12-14 January were answered with lines all quarantined.
  const rows = history({
    stores,
    from: '2025-12-01',
    to: '2026-01-19',
    hole: (id, d) => id === 'tienda_03' && d >= '2026-01-12' && d <= '2026-01-14',
  });
  for (const day of ['2026-01-12', '2026-01-13', '2026-01-14'])
    setDay(rows, 'tienda_03', day, { klkLines: 0, klkRejected: 40 });
  setDay(rows, 'tienda_03', '2026-01-11', { lines: 0, totalUsd: 0 }); // a missing day next to the rejected run

  it('never requests a day that is not over: a --to years ahead plans only the past holes', () => {
    // Seen on 26 January at noon, Caracas: 20-25 January are holes, the 26th (still open) and after are future.
    const report = buildCoverage(inputFor(rows, { stores, from: '2026-01-01', to: '2030-01-01' }));
    const plan = planFromCoverage(report, { config, timing });
    const days = requested(plan);
    expect(days.filter((d) => d.endsWith('2026-01-26') || d > 'tienda_03 2026-01-26')).toEqual([]);
    expect(days.filter((d) => d.startsWith('tienda_01')).sort()).toEqual(
      eachDay('2026-01-20', '2026-01-25').map((d) => `tienda_01 ${d}`),
    );
    expect(plan.totals.missingStoreDays).toBe(2 * 6 + 1);
  });

  it('never requests a rejected day, nor merges a request across one', () => {
    const tiny = history({
      stores,
      from: '2025-12-01',
      to: '2026-01-25',
      hole: (id, d) => id === 'tienda_03' && ['2026-01-10', '2026-01-11', '2026-01-12', '2026-01-13'].includes(d),
    });
    for (const row of tiny) row.lines = 50; // so small that merging two holes around one day would pay
    setDay(tiny, 'tienda_03', '2026-01-11', { klkLines: 0, klkRejected: 3 });
    // tienda_01 complete, so the holes are no common gap: one phase for all three, where merging could happen.
    const report = buildCoverage(inputFor(tiny, { stores, from: '2026-01-01', to: '2026-01-25' }));
    expect(report.patterns.commonGaps).toEqual([]);
    expect(report.stores.find((s) => s.store === 'tienda_03')).toMatchObject({ missingDays: 3, rejectedDays: 1 });
    const days = requested(planFromCoverage(report, { config, timing }));
    expect(days.sort()).toEqual(['tienda_03 2026-01-10', 'tienda_03 2026-01-12', 'tienda_03 2026-01-13']);
  });
});
