/**
 * The window's state, read-only: `GET /api/coverage` (the heatmap), `/api/gaps` and `/api/plan` (the
 * JSON of `ventas gaps` and `ventas plan`), each for `?from&to&stores` or the server's window.
 */
import { Hono } from 'hono';
import type { Config } from '../../catalogue/config.ts';
import { computeCoverage, toJson } from '../../coverage/index.ts';
import type { Db } from '../../db/types.ts';
import { planForReport } from '../../backfill/evidence.ts';
import { toPlanJson } from '../../plan/index.ts';
import { toHeatmap } from '../heatmap.ts';
import { only } from '../http.ts';
import { valid, windowQuery, type WindowDefaults } from '../params.ts';

export interface CoverageDeps {
  db: Db;
  config: Config;
  defaults: WindowDefaults;
  /** For the plan's estimate. */
  concurrency: number;
}

export function coverageRoutes({ db, config, defaults, concurrency }: CoverageDeps): Hono {
  const window = valid('query', windowQuery(config, defaults));
  return new Hono()
    .all('/coverage', only('GET'), window, async (c) =>
      c.json(toHeatmap(await computeCoverage(db, config, c.req.valid('query')), config.stores)),
    )
    .all('/gaps', only('GET'), window, async (c) =>
      c.json(toJson(await computeCoverage(db, config, c.req.valid('query')))),
    )
    .all('/plan', only('GET'), window, async (c) => {
      const report = await computeCoverage(db, config, c.req.valid('query'));
      return c.json(toPlanJson(await planForReport(db, report, { config, concurrency }), 'npx ventas'));
    });
}
