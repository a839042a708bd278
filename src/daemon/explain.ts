/**
 * Why one store-day is not complete (`GET /api/store-days/STORE/DAY`): its state, the request that last touched it,
 * the daemon's attempts on it and what comes next. Gathers the inputs from the modules that own them and asks
 * why.ts, which decides.
 */
import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import { computeCoverage } from '../coverage/compute.ts';
import type { DayState } from '../coverage/states.ts';
import type { Queryable } from '../db/types.ts';
import { addDays, type IsoDate } from '../shared/dates.ts';
import { lastRequestFor } from '../sync/runs.ts';
import { readHealAttempt } from './heal-attempts.ts';
import type { DaemonProviders, IsoInstant } from './status.ts';
import { nextTry, type LastRequest, type NextTry } from './why.ts';

export interface StoreDayExplanation {
  store: string;
  name: string;
  day: IsoDate;
  /** The zone the store's day and hours are read in. */
  timeZone: string;
  state: DayState;
  lines: number;
  /** What KLK reported for the whole day; null when never extracted whole. */
  klkLines: number | null;
  rejectedLines: number;
  /** The request that last touched the day; null when none is recorded. */
  lastAttempt: LastRequest | null;
  /** The daemon's heal attempts on the day (null: none since it was last complete). */
  healAttempts: { count: number; max: number; lastAt: IsoInstant } | null;
  next: NextTry;
  /** This server runs the daemon. */
  daemon: boolean;
}

/** Days before the asked one that the state is computed over, as a window of the page would (its usual lines). */
const CONTEXT_DAYS = 34;

export async function explainStoreDay(
  db: Queryable,
  config: Config,
  params: { store: Store; day: IsoDate; now: Date; daemon?: DaemonProviders },
): Promise<StoreDayExplanation> {
  const { store, day, now } = params;
  const report = await computeCoverage(db, config, {
    from: addDays(day, -CONTEXT_DAYS),
    to: day,
    stores: [store],
    now,
  });
  const cell = report.days[store.id]!.at(-1)!;
  const request = await lastRequestFor(db, store.id, day);
  const attempts = await readHealAttempt(db, { store: store.id, day });
  let daemon: Parameters<typeof nextTry>[0]['daemon'] = null;
  if (params.daemon) {
    const [status, incidents] = await Promise.all([params.daemon.status.status(), params.daemon.incidents.list()]);
    const incident = incidents.find(
      (i) => i.kind === 'heal_exhausted' && i.store === store.id && i.resolvedAt === null && i.dates.includes(day),
    );
    daemon = { status, exhaustedIncident: incident ? { id: incident.id, openedAt: incident.openedAt } : null };
  }
  const healAttempts = attempts && { count: attempts.attempts, lastAt: attempts.lastAttemptAt.toISOString() };
  return {
    store: store.id,
    name: store.name,
    day,
    timeZone: store.timeZone,
    state: cell.state,
    lines: cell.lines,
    klkLines: cell.klkLines,
    rejectedLines: cell.rejectedLines,
    lastAttempt: request && {
      at: request.requestedAt.toISOString(),
      outcome: request.outcome,
      lines: request.lines,
      error: request.error,
      dayFrom: request.dayFrom,
      dayTo: request.dayTo,
      horaDesde: request.horaDesde,
      horaHasta: request.horaHasta,
      run: request.run,
    },
    healAttempts: healAttempts && { ...healAttempts, max: config.heal.maxAttempts },
    next: nextTry({
      store,
      cell,
      now,
      heal: config.heal,
      chainZone: config.stores[0]?.timeZone ?? store.timeZone,
      attempts: healAttempts,
      daemon,
    }),
    daemon: Boolean(params.daemon),
  };
}
