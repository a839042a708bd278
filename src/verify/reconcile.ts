/**
 * `ventas verify --reconcile`: asks KLK itself for every expected store-day of the bounds and
 * compares its unique valid lines and USD total with what `ventas` holds. KLK's figures become each checked day's
 * reference in `store_days`, so the next coverage report shows a day KLK has more of as `partial`.
 *
 * Requests: one per store and run of expected days, as many days as fit the config's line budget at the store's
 * busiest observed day (the planner's rule), so a quiet chain is checked in few requests and a busy one never asks
 * KLK for more than the budget. Same client, retries and concurrency as the ETL; a multi-day request that times out
 * is halved instead of asked again.
 */
import type { Config } from '../catalogue/config.ts';
import type { Store } from '../catalogue/stores.ts';
import type { Queryable } from '../db/types.ts';
import { computeCoverage, isExpected, type DayCell, type UnprovenEmpty } from '../coverage/index.ts';
import { fetchWindow, silentDays } from '../extract/index.ts';
import { windowDays, type KlkClient, type KlkWindow } from '../klk/index.ts';
import type { DayTally, RejectedTally } from '../load/batch.ts';
import { refreshStoreDays } from '../load/store-days.ts';
import { tableDays } from '../load/ventas.ts';
import { daysBetween, type IsoDate } from '../shared/dates.ts';
import type { Logger } from '../shared/logger.ts';
import { mapPool, roundRobin } from '../shared/pool.ts';

/**
 * How a day differs: `missing` no rows although KLK has lines, `partial` KLK has more lines than the table, `drift`
 * the table has lines KLK no longer has (more lines, or as many with another USD total).
 */
export type DifferenceState = 'missing' | 'partial' | 'drift';

export interface DayFigures {
  lines: number;
  usd: number;
}

export interface DayDifference {
  store: string;
  day: IsoDate;
  state: DifferenceState;
  table: DayFigures;
  klk: DayFigures;
}

export interface FailedStore {
  store: string;
  /** Expected days of the store that could not be compared. */
  uncheckedDays: number;
  error: string;
}

/**
 * A day both KLK and the table have no line of, which KLK's answer does not prove empty: an answer without a `meta`
 * that echoes the whole request (`no-proof`), or the first 0-line answer for a weekday the store usually sells
 * (`needs-second-answer`, provable from `confirmFrom`). Never counted as matching: a failure that looks like
 * "0 sales" would pass for one.
 */
export interface UnprovenDay {
  store: string;
  day: IsoDate;
  reason: UnprovenEmpty['reason'];
  confirmFrom: string | null;
}

export interface ReconcileResult {
  /** Store-days compared with KLK (failed requests' days are not): matching + differing + unproven. */
  checkedStoreDays: number;
  matching: number;
  differing: DayDifference[];
  unproven: UnprovenDay[];
  failedStores: FailedStore[];
  /** No request got any answer and every failure was a connection that could not be made: KLK is unreachable. */
  klkUnreachable: boolean;
}

export interface ReconcileProgress {
  requestsDone: number;
  requestsTotal: number;
  lines: number;
}

export interface ReconcileDeps {
  db: Queryable;
  klk: KlkClient;
  /** Catalogue, closed days, thresholds (which days are expected) and line budget (request sizes). */
  config: Config;
  /** Requests in flight (the client enforces it; twice as many tasks keep it busy while the table is read). */
  concurrency: number;
  logger?: Logger;
  onProgress?: (progress: ReconcileProgress) => void;
}

export interface ReconcileParams {
  from: IsoDate;
  to: IsoDate;
  storeIds: readonly string[];
}

interface StoreCheck {
  store: Store;
  expected: IsoDate[];
  /** KLK's figures per day of every successful request, and its lines the loader would quarantine. */
  klk: Map<IsoDate, DayTally>;
  rejected: Map<IsoDate, RejectedTally>;
  /** Days an answer without `meta` had no line of: KLK said nothing of them. */
  unproven: Set<IsoDate>;
  errors: string[];
}

export async function reconcile(deps: ReconcileDeps, params: ReconcileParams): Promise<ReconcileResult> {
  const { db, klk, config } = deps;
  const byId = new Map(config.stores.map((s) => [s.id, s]));
  const stores = params.storeIds.map((id) => {
    const store = byId.get(id);
    if (!store) throw new Error(`tienda desconocida: ${id}`);
    return store;
  });
  const report = await computeCoverage(db, config, { from: params.from, to: params.to, stores });

  const fallbackPerDay = Math.max(0, ...stores.map((s) => busiestDay(report.days[s.id] ?? [])));
  const checks: StoreCheck[] = [];
  const tasks: Array<{ check: StoreCheck; window: KlkWindow }> = [];
  for (const store of stores) {
    const cells = report.days[store.id] ?? [];
    const expected = cells.filter((c) => isExpected(c.state)).map((c) => c.day);
    if (expected.length === 0) continue;
    const check: StoreCheck = { store, expected, klk: new Map(), rejected: new Map(), unproven: new Set(), errors: [] };
    checks.push(check);
    // A store never seen selling is sized like the busiest store checked.
    const perDay = busiestDay(cells) || fallbackPerDay;
    const chunkDays = perDay > 0 ? Math.max(1, Math.floor(config.lineBudget / perDay)) : 1;
    for (const window of requestWindows(expected, chunkDays)) tasks.push({ check, window });
  }

  const progress: ReconcileProgress = { requestsDone: 0, requestsTotal: tasks.length, lines: 0 };
  deps.onProgress?.(progress);
  let answered = false;
  let onlyUnreachable = true;
  const checkWindow = async (check: StoreCheck, window: KlkWindow): Promise<void> => {
    const { store } = check;
    const answer = await fetchWindow(klk, store, window);
    let failure: string;
    if (answer.ok) {
      const { batch, info } = answer;
      if (info.totalRegistros === null || batch.isVerifiedComplete(info.totalRegistros)) {
        answered = true;
        progress.lines += batch.received;
        // Lines prove themselves; no line proves the day empty only in an answer that proved itself whole.
        const silent = new Set(silentDays(answer));
        for (const day of windowDays(window)) {
          if (silent.has(day)) check.unproven.add(day);
          else check.klk.set(day, batch.days.get(day) ?? { lines: 0, totalUsdE4: 0 });
        }
        for (const [day, rejected] of batch.rejectedByDay()) check.rejected.set(day, rejected);
        return;
      }
      // An answer whose meta announces other than what arrived cannot prove anything about the table.
      failure = `KLK anunció ${info.totalRegistros} registros y llegaron ${batch.received}`;
      onlyUnreachable = false;
    } else {
      // A multi-day request that times out is halved instead of asked again.
      if (answer.halves) {
        for (const half of answer.halves) await checkWindow(check, half);
        return;
      }
      if (!answer.unreachable) onlyUnreachable = false;
      failure = answer.message;
    }
    check.errors.push(failure);
    deps.logger?.error({ store: store.id, window, err: failure }, 'conciliación: petición fallida');
  };
  // Round-robin across stores, so every store advances and a failing one shows early.
  const byStore = checks.map((check) => tasks.filter((t) => t.check === check));
  await mapPool(roundRobin(byStore), deps.concurrency * 2, async ({ check, window }) => {
    await checkWindow(check, window);
    progress.requestsDone++;
    deps.onProgress?.(progress);
  });

  const failures = checks.some((c) => c.errors.length > 0);
  const result: ReconcileResult = {
    checkedStoreDays: 0,
    matching: 0,
    differing: [],
    unproven: [],
    failedStores: [],
    klkUnreachable: !answered && failures && onlyUnreachable,
  };
  // Days with no line on either side: matching only if, once KLK's answer is recorded, the day reads as empty.
  const bothEmpty: Array<{ store: string; day: IsoDate }> = [];
  for (const check of checks) {
    const checked = check.expected.filter((day) => check.klk.has(day));
    const unproven = check.expected.filter((day) => !check.klk.has(day) && check.unproven.has(day));
    if (check.errors.length > 0) {
      result.failedStores.push({
        store: check.store.id,
        uncheckedDays: check.expected.length - checked.length - unproven.length,
        error: check.errors[0]!,
      });
    }
    if (checked.length + unproven.length === 0) continue;
    const span = [...checked, ...unproven].sort();
    const table = await tableDays(db, check.store.id, span[0]!, span.at(-1)!);
    for (const day of checked) {
      const k = check.klk.get(day)!;
      const t = table.get(day) ?? { lines: 0, totalUsdE4: 0 };
      const state = difference(t, k);
      result.checkedStoreDays++;
      if (state !== null)
        result.differing.push({ store: check.store.id, day, state, table: figures(t), klk: figures(k) });
      else if (k.lines === 0 && (check.rejected.get(day)?.lines ?? 0) === 0)
        bothEmpty.push({ store: check.store.id, day });
      else result.matching++;
    }
    for (const day of unproven) {
      result.checkedStoreDays++;
      // The table has lines KLK's unproven answer does not: that is drift whatever the answer proves.
      const t = table.get(day);
      if (t && t.lines > 0)
        result.differing.push({
          store: check.store.id,
          day,
          state: 'drift',
          table: figures(t),
          klk: { lines: 0, usd: 0 },
        });
      else result.unproven.push({ store: check.store.id, day, reason: 'no-proof', confirmFrom: null });
    }
    // KLK's whole-day figures become the days' reference, as a whole-day extraction records them.
    await refreshStoreDays(db, {
      storeId: check.store.id,
      days: checked,
      klk: check.klk,
      rejected: check.rejected,
      proven: true,
      extraction: null,
    });
    if (unproven.length > 0)
      await refreshStoreDays(db, {
        storeId: check.store.id,
        days: unproven,
        klk: new Map(),
        proven: false,
        extraction: null,
      });
  }
  if (bothEmpty.length > 0) {
    const after = await computeCoverage(db, config, { from: params.from, to: params.to, stores });
    for (const { store, day } of bothEmpty) {
      const cell = after.days[store]?.find((c) => c.day === day);
      if (cell?.state === 'missing' && cell.unprovenEmpty) {
        result.unproven.push({
          store,
          day,
          reason: cell.unprovenEmpty.reason,
          confirmFrom: cell.unprovenEmpty.confirmFrom,
        });
      } else {
        result.matching++;
      }
    }
  }
  result.unproven.sort((a, b) => a.store.localeCompare(b.store) || a.day.localeCompare(b.day));
  result.differing.sort((a, b) => a.store.localeCompare(b.store) || a.day.localeCompare(b.day));
  result.failedStores.sort((a, b) => a.store.localeCompare(b.store));
  return result;
}

/** Null when the table matches KLK. */
export function difference(table: DayTally, klk: DayTally): DifferenceState | null {
  if (table.lines === klk.lines && table.totalUsdE4 === klk.totalUsdE4) return null;
  if (table.lines === 0) return 'missing';
  return klk.lines > table.lines ? 'partial' : 'drift';
}

/** The lines of a store's busiest day in the window, from the table, KLK or its usual; 0 when it never sold. */
function busiestDay(cells: readonly DayCell[]): number {
  return Math.max(0, ...cells.map((c) => Math.max(c.lines, c.klkLines ?? 0, c.usualLines ?? 0)));
}

/**
 * Whole-day windows over sorted days, each spanning at most `chunkDays` calendar days and ending on a listed day;
 * unlisted days inside a window (closed, empty) are fetched but not compared.
 */
export function requestWindows(days: readonly IsoDate[], chunkDays: number): KlkWindow[] {
  const windows: KlkWindow[] = [];
  for (const day of days) {
    const open = windows.at(-1);
    if (open && daysBetween(open.fechaDesde, day) < chunkDays) open.fechaHasta = day;
    else windows.push({ fechaDesde: day, fechaHasta: day });
  }
  return windows;
}

function figures(t: DayTally): DayFigures {
  return { lines: t.lines, usd: t.totalUsdE4 / 10_000 };
}
