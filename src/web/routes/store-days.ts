/**
 * `GET /api/store-days/STORE/DAY`: why a store-day is not complete (daemon/explain.ts). Under `ventas daemon` the next
 * try is the daemon's; under `ventas serve` it is the command that runs it by hand.
 */
import { Hono } from 'hono';
import type { Config } from '../../catalogue/config.ts';
import { explainStoreDay } from '../../daemon/explain.ts';
import type { DaemonProviders } from '../../daemon/status.ts';
import type { Db } from '../../db/types.ts';
import { now } from '../../shared/clock.ts';
import { only } from '../http.ts';
import { noQuery, storeDayParams, valid } from '../params.ts';

export function storeDayRoutes(deps: { db: Db; config: Config; daemon?: DaemonProviders }): Hono {
  return new Hono().all(
    '/store-days/:store/:day',
    only('GET'),
    valid('param', storeDayParams(deps.config)),
    valid('query', noQuery),
    async (c) => {
      const { store, day } = c.req.valid('param');
      return c.json(await explainStoreDay(deps.db, deps.config, { store, day, now: now(), daemon: deps.daemon }));
    },
  );
}
