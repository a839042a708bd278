import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import type { Queryable } from '../db/types.ts';
import { now as clockNow } from '../shared/clock.ts';
import type { IsoDate } from '../shared/dates.ts';
import { readCoverageInput } from './read.ts';
import { buildCoverage, type CoverageReport } from './report.ts';

/**
 * The coverage report of a window for some stores, from the per-store-day summary: what every door shows. Days not
 * over at `now` (default: the clock's, VENTAS_CLOCK included) are future.
 */
export async function computeCoverage(
  db: Queryable,
  config: Config,
  params: { from: IsoDate; to: IsoDate; stores?: readonly Store[]; now?: Date },
): Promise<CoverageReport> {
  const stores = params.stores ?? config.stores;
  const data = await readCoverageInput(db, { from: params.from, to: params.to, storeIds: stores.map((s) => s.id) });
  return buildCoverage({
    stores,
    chainClosedDays: config.closedDays,
    thresholds: config.thresholds,
    from: params.from,
    to: params.to,
    ...data,
    now: params.now ?? clockNow(),
  });
}
